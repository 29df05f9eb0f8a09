"""GraphQL types for answers: responses and their values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from feedbackql_server.api.context import Info
from feedbackql_server.api.enums import ResponseStatus
from feedbackql_server.api.kind_interfaces import Value
from feedbackql_server.api.kind_types import KindTypes
from feedbackql_server.api.users import User
from feedbackql_server.documents import ResponseDoc


@strawberry.type
class ResponseValue:
    question: str
    value: Value
    json: JSON = strawberry.field(description="The value as stored: for clients that do not know the kind.")


@strawberry.type
class Response:
    id: strawberry.ID
    status: ResponseStatus
    values: list[ResponseValue]
    version: int
    created_at: datetime
    updated_at: datetime
    user_id: strawberry.Private[Any]

    @strawberry.field
    async def user(self, info: Info) -> User:
        return User.of(await info.context.session.user_of(self.user_id))

    @classmethod
    def of(cls, doc: ResponseDoc, kinds: KindTypes) -> Response:
        return cls(
            id=strawberry.ID(str(doc["_id"])), status=ResponseStatus(doc["status"]),
            values=[ResponseValue(question=q, value=kinds.values.stored_to_output(v), json=v["value"])
                    for q, v in doc["values"].items()],
            version=doc["version"], created_at=doc["created_at"],
            updated_at=doc["updated_at"], user_id=doc["user_id"],
        )
