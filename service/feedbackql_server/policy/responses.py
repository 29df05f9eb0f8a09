"""Responses: everyone answers the records they see; annotators see only their own answers."""

from __future__ import annotations

from collections.abc import Iterable

from feedbackql_server.documents import ResponseDoc
from feedbackql_server.policy.caller import Caller


def sees_all(caller: Caller) -> bool:
    return not caller.is_annotator


def visible(caller: Caller, responses: Iterable[ResponseDoc]) -> list[ResponseDoc]:
    if sees_all(caller):
        return list(responses)
    return [r for r in responses if r["user_id"] == caller.id]
