"""The derived state of a record, computed from its stored state: pure functions.

Who answered (per status), how many submitted answers it has, whether it is complete,
its live leases, and until when it has no room for another labeler.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from feedbackql_server.storage.documents import RESPONSE_STATUSES, Lease, RecordDoc, answered_by
from feedbackql_server.storage.queue import EPOCH

Doc = dict[str, Any]
ENDS_LEASE = ("submitted", "discarded", None)  # None: the response was deleted


def live_leases(record: RecordDoc, now: datetime) -> list[Lease]:
    return [lease for lease in record.get("leases", []) if lease["until"] > now]


def answered(record: RecordDoc, user_key: str) -> bool:
    return any(user_key in answered_by(record, status) for status in RESPONSE_STATUSES)


def derived(submitted_by: list[str], leases: list[Lease], min_submitted: int) -> Doc:
    """Status, count and saturation that follow from the answers and the leases."""
    count = len(submitted_by)
    complete = count >= min_submitted
    full = complete or count + len(leases) >= min_submitted
    saturated_until = min((lease["until"] for lease in leases), default=EPOCH) if full else EPOCH
    return {"status": "completed" if complete else "pending", "submitted_count": count,
            "leases": leases, "saturated_until": saturated_until}


def after_response(record: RecordDoc, user_key: str, status: str | None, version: int,
                   min_submitted: int, now: datetime) -> Doc | None:
    """The record's new state once ``user_key``'s response has ``status`` (None: deleted);
    None when a newer version of that response was applied already."""
    if record.get("response_versions", {}).get(user_key, -1) >= version:
        return None
    lists: dict[str, list[str]] = {s: [u for u in answered_by(record, s) if u != user_key]
                                   for s in RESPONSE_STATUSES}
    if status is not None:
        lists[status].append(user_key)
    leases = live_leases(record, now)
    if status in ENDS_LEASE:
        leases = [lease for lease in leases if lease["user"] != user_key]
    return {**{f"{s}_by": users for s, users in lists.items()},
            f"response_versions.{user_key}": version,
            **derived(lists["submitted"], leases, min_submitted)}


def with_lease(record: RecordDoc, user_key: str, until: datetime, min_submitted: int,
               now: datetime) -> Doc | None:
    """The record's state with a lease for ``user_key`` until ``until`` (a lease the user
    holds already is extended); None when the record cannot go to them."""
    if record.get("status") != "pending" or answered(record, user_key):
        return None
    others = [lease for lease in live_leases(record, now) if lease["user"] != user_key]
    submitted = record.get("submitted_by", [])
    if len(submitted) + len(others) >= min_submitted:
        return None
    return derived(submitted, [*others, {"user": user_key, "until": until}], min_submitted)



def without_lease(record: RecordDoc, user_key: str, min_submitted: int, now: datetime) -> Doc | None:
    """The record's state with ``user_key``'s lease given back; None when they hold none."""
    leases = live_leases(record, now)
    kept = [lease for lease in leases if lease["user"] != user_key]
    if len(kept) == len(leases):
        return None
    return derived(record.get("submitted_by", []), kept, min_submitted)
