"""Every selector the service sends while serving requests is one the embedded database answers
from an index, or a read of a whole dataset (a deletion, a first load): FerretDB evaluates
everything but top-level equality after reading every document its equalities select, and an
equality on a key without a GIN index (``database/equality_indexes.py``) reads the whole table.
Before this check, the per-request loaders read users and datasets with ``$in`` (every user and
every dataset, request after request), and a vector's lookup by ``_id`` scanned every vector
(350 ms at 60,000). The workload runs in its own process (``tests/lookup_audit.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedbackql_server.settings import Settings


def test_requests_select_only_by_indexed_keys_or_whole_datasets(mongodb_uri: str) -> None:
    if Settings(mongodb_uri=mongodb_uri).storage_paths == "mongodb":
        pytest.skip("FerretDB's rule: MongoDB's paths read ranges through its own indexes")
    audit = subprocess.run([sys.executable, "-m", "tests.lookup_audit"], cwd=Path(__file__).parents[1],
                           env={**os.environ, "MONGODB_URI": mongodb_uri}, capture_output=True, text=True,
                           timeout=300, check=False)
    assert audit.returncode == 0, audit.stderr[-3000:]
    unserved: dict[str, str] = json.loads(audit.stdout.strip().splitlines()[-1])
    whole_datasets = {shape: example for shape, example in unserved.items() if _whole_dataset(shape)}
    assert {shape: example for shape, example in unserved.items() if shape not in whole_datasets} == {}
    assert whole_datasets, "the audit saw no dataset deleted: did its workload run?"


def _whole_dataset(shape: str) -> bool:
    """A dataset's (or one of its vector spaces') every document, selected by equality alone."""
    keys: dict[str, str] = json.loads(shape.split(" ", 2)[2])
    return keys.get("dataset_id") == "=" and set(keys) <= {"dataset_id", "space"} and set(keys.values()) == {"="}
