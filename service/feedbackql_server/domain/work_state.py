"""The derived state of a record, computed from its stored state: pure functions.

Who answered (per status), how many submitted answers it has, whether it is complete,
its live leases, and until when it has no room for another labeler.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from feedbackql_server.documents import RESPONSE_STATUSES, Lease, RecordDoc, ResponseDoc, answered_by
from feedbackql_server.storage.filter_keys import RESPONSE_KEYS, response_keys
from feedbackql_server.storage.queue import EPOCH

Doc = dict[str, Any]
ENDS_LEASE = ("submitted", "discarded", None)  # None: the response was deleted


def live_leases(record: RecordDoc, now: datetime) -> list[Lease]:
    return [lease for lease in record.get("leases", []) if lease["until"] > now]


def answered(record: RecordDoc, user_key: str) -> bool:
    return any(user_key in answered_by(record, status) for status in RESPONSE_STATUSES)


def derived(submitted_by: list[str], leases: list[Lease], min_submitted: int) -> Doc:
    """Status, count and saturation that follow from the answers and the leases (and the
    minimum they were derived with)."""
    count = len(submitted_by)
    complete = count >= min_submitted
    full = complete or count + len(leases) >= min_submitted
    saturated_until = min((lease["until"] for lease in leases), default=EPOCH) if full else EPOCH
    return {"status": "completed" if complete else "pending", "submitted_count": count,
            "leases": leases, "saturated_until": saturated_until, "counted_min": min_submitted}


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


def restatus(record: RecordDoc, min_submitted: int, now: datetime) -> Doc | None:
    """The record's state under ``min_submitted`` (after it changed); None when it is so
    already. Leases of labelers who answered are dropped: they are never handed it again."""
    answered_users = set(answered_by(record, "submitted")) | set(answered_by(record, "discarded"))
    leases = [lease for lease in live_leases(record, now) if lease["user"] not in answered_users]
    changes = derived(answered_by(record, "submitted"), leases, min_submitted)
    compared = dict(changes)
    if "counted_min" not in record and not changes["submitted_count"]:
        del compared["counted_min"]  # never answered: the same under any minimum
    if all(record.get(key) == value for key, value in compared.items()):
        return None
    return changes


def rebuilt(responses: list[ResponseDoc], min_submitted: int, leases: list[Lease]) -> Doc:
    """A record's whole work state from its response documents (deleted ones included: they
    carry versions) and its live ``leases``: what it must be, whatever it holds now."""
    lists: dict[str, list[str]] = {status: [] for status in RESPONSE_STATUSES}
    versions: dict[str, int] = {}
    for response in sorted(responses, key=lambda doc: doc["_id"]):
        user = str(response["user_id"])
        versions[user] = response["version"]
        if response["status"] in lists:
            lists[response["status"]].append(user)
    ended = set(lists["submitted"]) | set(lists["discarded"])
    kept = [lease for lease in leases if lease["user"] not in ended]
    return {**{f"{s}_by": users for s, users in lists.items()}, "response_versions": versions,
            **derived(lists["submitted"], kept, min_submitted)}


def differences(record: RecordDoc, expected: Doc, now: datetime) -> list[str]:
    """How the record's stored state differs from ``expected`` (``rebuilt``), in words; empty
    when it agrees with its responses, its leases and the minimum."""
    found: list[str] = []
    for status in RESPONSE_STATUSES:
        stored, wanted = set(answered_by(record, status)), set(expected[f"{status}_by"])
        if stored != wanted:
            found.append(f"{len(wanted)} {status} response(s), {len(stored)} recorded")
    if (record.get(RESPONSE_KEYS) or []) != response_keys(expected):
        found.append(f"filter keys {record.get(RESPONSE_KEYS) or []}, {response_keys(expected)} answered")
    count, minimum = expected["submitted_count"], expected["counted_min"]
    if record.get("status") != expected["status"]:
        found.append(f"{record.get('status')} with {count} of {minimum} submitted answers")
    if record.get("submitted_count") != count:
        found.append(f"submitted_count {record.get('submitted_count')}, {count} submitted")
    if record.get("counted_min", minimum) != minimum:
        found.append(f"status derived with minSubmitted {record.get('counted_min')}, now {minimum}")
    versions = record.get("response_versions", {})
    behind = [user for user, version in expected["response_versions"].items() if versions.get(user, -1) < version]
    if behind:
        found.append(f"behind the responses of {len(behind)} user(s)")
    ended = set(expected["submitted_by"]) | set(expected["discarded_by"])
    leased = [lease for lease in live_leases(record, now) if lease["user"] in ended]
    if leased:
        found.append(f"leased to {len(leased)} labeler(s) who answered it")
    return found


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



def without_lease(record: RecordDoc, user_key: str, min_submitted: int, now: datetime,
                  skip_until: datetime | None = None) -> Doc | None:
    """The record's state with ``user_key``'s lease given back, and with a skip until
    ``skip_until`` when given; None when there is nothing to change (no lease, no skip)."""
    leases = live_leases(record, now)
    kept = [lease for lease in leases if lease["user"] != user_key]
    if len(kept) == len(leases) and skip_until is None:
        return None
    changes = derived(record.get("submitted_by", []), kept, min_submitted)
    if skip_until is not None:
        others = [skip for skip in live_skips(record, now) if skip["user"] != user_key]
        changes["skips"] = [*others, {"user": user_key, "until": skip_until}]
    return changes


def live_skips(record: RecordDoc, now: datetime) -> list[Lease]:
    return [skip for skip in record.get("skips", []) if skip["until"] > now]


def skipped(record: RecordDoc, user_key: str, now: datetime) -> bool:
    """Whether the user skipped the record and the skip still runs."""
    return any(skip["user"] == user_key for skip in live_skips(record, now))
