"""A dataset's progress counters, kept current by the writes that change them.

Counting on FerretDB reads every record of the dataset (about 0.2 ms a record: 20 s at
100,000), so the figures of ``datasetProgress``, ``annotatorProgress`` and an unfiltered
``totalCount`` are kept as counters (``storage/tallies.py``: the dataset's in its document,
each labeler's apart) and moved with ``$inc`` by each write: these pure functions say by how
much. ``recount`` computes them from the records, for data written before the counters
existed and to repair them on demand.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from feedbackql_server.documents import RESPONSE_STATUSES, RecordDoc, answered_by
from feedbackql_server.storage.tallies import USERS

Doc = dict[str, Any]


def empty() -> Doc:
    return {"records": 0, "pending": 0, "completed": 0, "over": 0,
            "responses": dict.fromkeys(RESPONSE_STATUSES, 0)}


def _user_statuses(record: RecordDoc) -> dict[str, str]:
    return {user: status for status in RESPONSE_STATUSES for user in answered_by(record, status)}


def _over(record: RecordDoc, min_submitted: int) -> int:
    """Submitted answers beyond the minimum the record's status was derived with: the one it
    was counted with, so that a change moves the counters from what they hold even when
    ``minSubmitted`` changed in between (``min_submitted``: for records that do not say)."""
    return max(0, len(record.get("submitted_by", [])) - record.get("counted_min", min_submitted))


def contribution(record: RecordDoc, min_submitted: int) -> Counter[str]:
    """What one record adds to the counters (dotted keys, as ``$inc`` takes them)."""
    pending = record.get("status") == "pending"
    counts: Counter[str] = Counter({"records": 1, "pending" if pending else "completed": 1,
                                    "over": _over(record, min_submitted)})
    for user, status in _user_statuses(record).items():
        counts[f"responses.{status}"] += 1
        counts[f"{USERS}.{user}.{status}"] += 1
        counts[f"{USERS}.{user}.answered_pending"] += pending
    return counts


def change(before: RecordDoc, after: RecordDoc, min_submitted: int) -> dict[str, int]:
    """The ``$inc`` that takes the counters from ``before`` to ``after`` (a record's state)."""
    delta = contribution(after, min_submitted)
    delta.subtract(contribution(before, min_submitted))
    return {key: value for key, value in delta.items() if value}


def removal(record: RecordDoc, min_submitted: int) -> dict[str, int]:
    return {key: -value for key, value in contribution(record, min_submitted).items() if value}


def recount(records: list[RecordDoc], min_submitted: int) -> Doc:
    """The counters of these records, as stored in the dataset document."""
    totals: Counter[str] = Counter()
    for record in records:
        totals.update(contribution(record, min_submitted))
    tally = empty()
    for key, value in totals.items():
        target = tally
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return tally
