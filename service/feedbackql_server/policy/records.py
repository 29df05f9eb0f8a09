"""Records: whoever sees the dataset sees its records, minus hidden metadata."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from feedbackql_server.documents import DatasetDoc, RecordDoc
from feedbackql_server.errors import NotFound
from feedbackql_server.policy import datasets
from feedbackql_server.policy.caller import Caller


def readable(
    caller: Caller, record: RecordDoc | None, dataset: DatasetDoc | None, ref: object
) -> tuple[RecordDoc, DatasetDoc]:
    """The record and its dataset."""
    if record is None or dataset is None or not datasets.visible(caller, dataset):
        raise NotFound(f"record {ref} does not exist")
    return record, dataset


def visible_metadata(metadata: dict[str, Any], hidden: Collection[str]) -> dict[str, Any]:
    if not hidden:
        return metadata
    return {name: value for name, value in metadata.items() if name not in hidden}
