"""Workspaces, users and memberships, with the policy's rules applied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bson import ObjectId

from feedbackql_server.documents import UserDoc, WorkspaceDoc
from feedbackql_server.domain import identity
from feedbackql_server.domain.config import check_name
from feedbackql_server.errors import Conflict, NotFound
from feedbackql_server.policy import Caller, users, workspaces

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Services


@dataclass(frozen=True)
class UserWithKey:
    user: UserDoc
    api_key: str


async def create_workspace(services: Services, caller: Caller, name: str) -> WorkspaceDoc:
    workspaces.require_owner(caller, "create workspaces")
    check_name(name, ["name"])
    return await services.storage.workspaces.create(name)


async def delete_workspace(services: Services, caller: Caller, workspace_id: ObjectId) -> WorkspaceDoc:
    workspace = workspaces.readable(caller, await services.storage.workspaces.get(workspace_id), workspace_id)
    workspaces.require_owner(caller, "delete workspaces")
    # Mark first, then look for datasets; createDataset inserts first, then looks for the mark
    # (domain/datasets.py): whichever comes second sees the other, so a dataset can never be
    # left in a deleted workspace.
    await services.storage.workspaces.set_closing(workspace_id, True)
    if await services.storage.datasets.any_in_workspace(workspace_id):
        await services.storage.workspaces.set_closing(workspace_id, False)
        raise Conflict("the workspace still holds datasets; delete or move them first")
    await services.storage.workspaces.delete(workspace_id)
    await services.storage.users.forget_workspace(workspace_id)
    return workspace


async def create_user(
    services: Services, caller: Caller, username: str, role: str, workspace_ids: Sequence[ObjectId]
) -> UserWithKey:
    check_name(username, ["input", "username"])
    unique_ids = list(dict.fromkeys(workspace_ids))
    found = {w["_id"]: w for w in await services.storage.workspaces.by_ids(unique_ids)}
    for workspace_id in workspace_ids:
        workspaces.readable(caller, found.get(workspace_id), workspace_id)
    users.require_create(caller, role, unique_ids)
    api_key = identity.new_api_key()
    doc = await services.storage.users.create(username, role, identity.hash_key(api_key), unique_ids)
    return UserWithKey(doc, api_key)


async def rotate_api_key(services: Services, caller: Caller, user_id: ObjectId) -> UserWithKey:
    target = users.readable(caller, await services.storage.users.get(user_id), user_id)
    users.require_rotate(caller, target)
    api_key = identity.new_api_key()
    doc = await services.storage.users.set_key_hash(user_id, identity.hash_key(api_key))
    return UserWithKey(_still_there(doc, user_id), api_key)


async def delete_user(services: Services, caller: Caller, user_id: ObjectId) -> UserDoc:
    target = users.readable(caller, await services.storage.users.get(user_id), user_id)
    users.require_delete(caller, target)
    # The key hash must stay unique, so the deleted user gets the hash of a key nobody has.
    doc = await services.storage.users.mark_deleted(user_id, identity.hash_key(identity.new_api_key()))
    return _still_there(doc, user_id)


async def add_member(
    services: Services, caller: Caller, workspace_id: ObjectId, user_id: ObjectId
) -> UserDoc:
    target = await _member_change(services, caller, workspace_id, user_id)
    return _still_there(await services.storage.users.add_workspace(target["_id"], workspace_id), user_id)


async def remove_member(
    services: Services, caller: Caller, workspace_id: ObjectId, user_id: ObjectId
) -> UserDoc:
    target = await _member_change(services, caller, workspace_id, user_id)
    if workspace_id not in target.get("workspace_ids", ()):
        raise NotFound(f"user {user_id} is not a member of workspace {workspace_id}")
    return _still_there(await services.storage.users.remove_workspace(target["_id"], workspace_id), user_id)


async def visible_users(services: Services, caller: Caller) -> list[UserDoc]:
    users.require_lister(caller)
    return await services.storage.users.listed(workspaces.visible_ids(caller))


async def _member_change(
    services: Services, caller: Caller, workspace_id: ObjectId, user_id: ObjectId
) -> UserDoc:
    workspaces.manageable(caller, await services.storage.workspaces.get(workspace_id), workspace_id)
    target = users.readable(caller, await services.storage.users.get(user_id), user_id)
    users.require_manage_member(caller, workspace_id, target)
    return target


def _still_there(doc: UserDoc | None, user_id: ObjectId) -> UserDoc:
    """The user was deleted between the check and the write."""
    if doc is None:
        raise NotFound(f"user {user_id} does not exist")
    return doc
