"""Progress figures of a dataset and of each labeler, from aggregations over the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from feedbackql_server.documents import RESPONSE_STATUSES, DatasetDoc
from feedbackql_server.domain.datasets import recount
from feedbackql_server.policy import Caller
from feedbackql_server.policy import responses as policy_responses
from feedbackql_server.storage import Storage

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Services

Doc = dict[str, Any]


@dataclass(frozen=True)
class DatasetProgress:
    dataset_id: ObjectId
    min_submitted: int
    total: int
    pending: int
    completed: int
    responses: dict[str, int]
    over_annotation: int
    """Submitted responses beyond ``min_submitted`` on records that have more."""


@dataclass
class AnnotatorProgress:
    user_id: ObjectId
    available: int
    username: str = ""
    responses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESPONSE_STATUSES, 0))


async def counters(storage: Storage, dataset: DatasetDoc) -> Doc:
    """The dataset's progress counters (``domain/tally.py``), counted now if it has none."""
    if "tally" in dataset:
        counted: Doc = dataset["tally"]
        return counted
    recounted: Doc = (await recount(storage, dataset))["tally"]
    return recounted


async def dataset_progress(services: Services, dataset: DatasetDoc) -> DatasetProgress:
    storage = services.storage
    counted = await counters(storage, dataset)
    return DatasetProgress(
        dataset_id=dataset["_id"], min_submitted=dataset["distribution"]["min_submitted"],
        total=counted["records"], pending=counted["pending"], completed=counted["completed"],
        responses={status: counted["responses"].get(status, 0) for status in RESPONSE_STATUSES},
        over_annotation=counted["over"],
    )


async def own_progress(services: Services, caller: Caller, dataset: DatasetDoc) -> AnnotatorProgress:
    """The caller's row of ``annotator_progress``, from the counters alone."""
    storage = services.storage
    counted = await counters(storage, dataset)
    users = await storage.tallies.of_users(dataset["_id"], str(caller.id))
    return _row(caller.id, counted, users)


def _row(user_id: ObjectId, counted: Doc, users: dict[str, dict[str, int]]) -> AnnotatorProgress:
    """One user's figures from the dataset's and the users' counters."""
    figures = users.get(str(user_id), {})
    row = AnnotatorProgress(user_id, counted["pending"] - figures.get("answered_pending", 0))
    row.responses.update({status: figures.get(status, 0) for status in RESPONSE_STATUSES})
    return row


async def annotator_progress(services: Services, caller: Caller, dataset: DatasetDoc) -> list[AnnotatorProgress]:
    """Everyone who answered or may answer the dataset (annotators: only themselves)."""
    storage = services.storage
    counted = await counters(storage, dataset)
    users = await storage.tallies.of_users(dataset["_id"])
    members = await storage.users.listed([dataset["workspace_id"]])
    user_ids = [doc["_id"] for doc in members] + [ObjectId(key) for key in users]
    rows = {user_id: _row(user_id, counted, users) for user_id in user_ids}
    visible = [row for row in rows.values()
               if policy_responses.sees_all(caller) or row.user_id == caller.id]
    names = {doc["_id"]: doc["username"] for doc in members}
    missing = [row.user_id for row in visible if row.user_id not in names]
    names.update({doc["_id"]: doc["username"] for doc in await storage.users.by_ids(missing)})
    for row in visible:
        row.username = names.get(row.user_id, "")
    return sorted(visible, key=lambda row: row.user_id)
