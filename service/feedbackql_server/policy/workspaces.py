"""Workspaces: members see them, their admins and owners manage them, owners create them."""

from __future__ import annotations

from bson import ObjectId

from feedbackql_server.documents import WorkspaceDoc
from feedbackql_server.errors import Forbidden, NotFound
from feedbackql_server.policy.caller import Caller


def readable(caller: Caller, workspace: WorkspaceDoc | None, ref: object) -> WorkspaceDoc:
    if workspace is None or not caller.member_of(workspace["_id"]):
        raise NotFound(f"workspace {ref} does not exist")
    return workspace


def manageable(caller: Caller, workspace: WorkspaceDoc | None, ref: object) -> WorkspaceDoc:
    workspace = readable(caller, workspace, ref)
    if not caller.manages(workspace["_id"]):
        raise Forbidden("only owners and the workspace's admins manage it")
    return workspace


def visible_ids(caller: Caller) -> list[ObjectId] | None:
    """The workspaces the caller may list; None means all of them."""
    return None if caller.is_owner else sorted(caller.workspace_ids)


def require_owner(caller: Caller, action: str) -> None:
    if not caller.is_owner:
        raise Forbidden(f"only owners {action}")
