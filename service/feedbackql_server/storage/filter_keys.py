"""Top-level equality keys for the filters FerretDB would otherwise evaluate itself.

FerretDB 1.24 hands PostgreSQL only a filter's top-level equalities; a condition on
``metadata.<name>`` or on whether ``<status>_by`` is empty it evaluates in Go, after decoding
every record of the bucket it reads (~25 ms a bucket of 100, so 0.5 s for a filtered page's 20
buckets at any dataset size: ``bench/worst_query.py``). Each record therefore also keeps:

- ``response_keys``: for every set of response statuses a filter can ask for, a key when the
  record has a response of one of them (at most 7 keys: the non-empty subsets of the three
  statuses). ``responseStatus: [SUBMITTED, DRAFT]`` is then the single equality
  ``response_keys: "submitted+draft"``. Written with the ``<status>_by`` lists, in the same
  update (``queue.QueueRepo.set_state``, ``records.insert``).
- ``metadata_keys``: one key per metadata value (and per term of a list), the same value
  written alike whatever its numeric type (``7`` and ``7.0``, as the database compares them).
  Written with the metadata, in the same insert or update (``records.insert``,
  ``records.replace_content``).

A filtered page pushes one such key beside the bucket's equality (a metadata condition of a
few values: one lookup per value's key, ``records._bucket_filters``) and keeps the condition it
stands for: the key only narrows what PostgreSQL returns, the condition still decides. A range
(``ge``/``le``) has no key: it is no equality. A key
exists for every record that can match, so nothing is missed; ``feedbackql check`` compares
``response_keys`` with the responses, and layout 7 gave records written before their keys.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from feedbackql_server.documents import RESPONSE_STATUSES

RESPONSE_KEYS = "response_keys"
METADATA_KEYS = "metadata_keys"
STATUS_SETS = [combination for size in range(1, len(RESPONSE_STATUSES) + 1)
               for combination in itertools.combinations(RESPONSE_STATUSES, size)]
"""Every set of response statuses, each in ``RESPONSE_STATUSES`` order."""


def response_key(statuses: Sequence[str]) -> str:
    """The key of the records with a response of one of ``statuses``."""
    return "+".join(status for status in RESPONSE_STATUSES if status in statuses)


def response_keys(record: Mapping[str, Any]) -> list[str]:
    """The keys of a record (or of the state changes) that holds the ``<status>_by`` lists."""
    answered = {status for status in RESPONSE_STATUSES if record.get(f"{status}_by")}
    return ["+".join(statuses) for statuses in STATUS_SETS if answered.intersection(statuses)]


def metadata_keys(metadata: Mapping[str, Any] | None) -> list[str]:
    """The keys of a record's metadata: one per value, one per term of a list of values."""
    keys: dict[str, None] = {}
    for name, value in (metadata or {}).items():
        for item in value if isinstance(value, list) else [value]:
            key = metadata_key(name, item)
            if key is not None:
                keys[key] = None
    return list(keys)


def metadata_key(name: str, value: Any) -> str | None:
    """The key of metadata ``name`` equal to ``value``; None for a value without one (a
    document, a list, null: a filter of such a value is not narrowed by key)."""
    if isinstance(value, bool | str):
        return json.dumps([name, value])
    if isinstance(value, int):
        return json.dumps([name, int(value)])
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return json.dumps([name, int(value) if value.is_integer() else value])
    return None


def nothing_key(name: str) -> str:
    """A key no record has: what a filter of no value (a hidden property's) pushes down."""
    return json.dumps([name])
