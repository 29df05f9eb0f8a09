"""The authenticated caller, reduced to what the policy needs."""

from __future__ import annotations

from dataclasses import dataclass

from bson import ObjectId

from feedbackql_server.documents import UserDoc

OWNER, ADMIN, ANNOTATOR = "owner", "admin", "annotator"


@dataclass(frozen=True)
class Caller:
    id: ObjectId
    role: str
    workspace_ids: frozenset[ObjectId]

    @classmethod
    def of(cls, user: UserDoc) -> Caller:
        return cls(id=user["_id"], role=user["role"],
                   workspace_ids=frozenset(user.get("workspace_ids", ())))

    @property
    def is_owner(self) -> bool:
        return self.role == OWNER

    @property
    def is_annotator(self) -> bool:
        return self.role == ANNOTATOR

    def member_of(self, workspace_id: ObjectId) -> bool:
        """Owners belong everywhere; everybody else only where they were added."""
        return self.is_owner or workspace_id in self.workspace_ids

    def manages(self, workspace_id: ObjectId) -> bool:
        return self.is_owner or (self.role == ADMIN and workspace_id in self.workspace_ids)
