"""GraphQL types for people and places: users and workspaces."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from feedbackql_server.api import resolvers
from feedbackql_server.api.context import Info
from feedbackql_server.api.enums import Role
from feedbackql_server.documents import UserDoc, WorkspaceDoc

if TYPE_CHECKING:
    from feedbackql_server.api.datasets import Dataset



@strawberry.type
class Workspace:
    id: strawberry.ID
    name: str

    @strawberry.field
    async def datasets(self, info: Info) -> list[Annotated[Dataset, strawberry.lazy("feedbackql_server.api.datasets")]]:
        # Imported here: datasets name workspaces, and workspaces list datasets.
        from feedbackql_server.api.datasets import datasets_in

        return await datasets_in(info, self.id)

    @classmethod
    def of(cls, doc: WorkspaceDoc) -> Workspace:
        return cls(id=strawberry.ID(str(doc["_id"])), name=doc["name"])


@strawberry.type
class User:
    id: strawberry.ID
    username: str
    role: Role
    workspace_ids: strawberry.Private[list[Any]]

    @resolvers.field(description="Workspaces of this user that you can see.")
    async def workspaces(self, info: Info) -> list[Workspace]:
        return [Workspace.of(doc) for doc in await info.context.session.workspaces_of(self.workspace_ids)]

    @classmethod
    def of(cls, doc: UserDoc) -> User:
        return cls(id=strawberry.ID(str(doc["_id"])), username=doc["username"],
                   role=Role(doc["role"]), workspace_ids=doc.get("workspace_ids", []))


@strawberry.type(description="A user with a new API key, shown only this once.")
class UserWithApiKey:
    user: User
    api_key: str = strawberry.field(description="Shown once; only its hash is stored.")
