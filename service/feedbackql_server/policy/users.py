"""Users: owners manage everyone; admins manage the annotators of their workspaces."""

from __future__ import annotations

from collections.abc import Sequence

from bson import ObjectId

from feedbackql_server.documents import UserDoc
from feedbackql_server.errors import Forbidden, NotFound
from feedbackql_server.policy.caller import ANNOTATOR, OWNER, Caller


def can_see(caller: Caller, user: UserDoc) -> bool:
    """Owners see everyone; others see themselves and members of their workspaces."""
    if caller.is_owner or user["_id"] == caller.id:
        return True
    if caller.is_annotator:
        return False
    return not caller.workspace_ids.isdisjoint(user.get("workspace_ids", ()))


def readable(caller: Caller, user: UserDoc | None, ref: object) -> UserDoc:
    if user is None or user.get("deleted") or not can_see(caller, user):
        raise NotFound(f"user {ref} does not exist")
    return user


def require_lister(caller: Caller) -> None:
    if caller.is_annotator:
        raise Forbidden("only owners and admins list users")


def require_create(caller: Caller, role: str, workspace_ids: Sequence[ObjectId]) -> None:
    if caller.is_owner:
        return
    if caller.is_annotator:
        raise Forbidden("only owners and admins create users")
    if role != ANNOTATOR:
        raise Forbidden("only owners create owners and admins")
    if not workspace_ids or any(not caller.manages(w) for w in workspace_ids):
        raise Forbidden("admins create annotators in workspaces they belong to")


def require_manage_member(caller: Caller, workspace_id: ObjectId, user: UserDoc) -> None:
    """Adding to or removing from a workspace the caller manages; owners are off limits."""
    if not caller.manages(workspace_id):
        raise Forbidden("only owners and the workspace's admins manage its members")
    if user["role"] == OWNER and not caller.is_owner:
        raise Forbidden("only owners change the workspaces of owners")


def require_rotate(caller: Caller, user: UserDoc) -> None:
    if user["_id"] != caller.id and not caller.is_owner:
        raise Forbidden("you can rotate only your own API key")


def require_delete(caller: Caller, user: UserDoc) -> None:
    if not caller.is_owner:
        raise Forbidden("only owners delete users")
    if user["_id"] == caller.id:
        raise Forbidden("owners cannot delete themselves")

