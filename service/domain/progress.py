"""Progress figures of a dataset and of each labeler, from aggregations over the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId

from feedbackql.policy import Caller
from feedbackql.policy import responses as policy_responses
from feedbackql.storage import Storage

Doc = dict[str, Any]
STATUSES = ("submitted", "draft", "discarded")


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
    responses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))


async def dataset_progress(storage: Storage, dataset: Doc) -> DatasetProgress:
    min_submitted = dataset["distribution"]["min_submitted"]
    by_status = await storage.queue.counts_by(dataset["_id"], "status")
    by_count = await storage.queue.counts_by(dataset["_id"], "submitted_count")
    responses = dict.fromkeys(STATUSES, 0)
    for (_user, status), n in (await storage.responses.counts(dataset["_id"])).items():
        responses[status] += n
    return DatasetProgress(
        dataset_id=dataset["_id"], min_submitted=min_submitted,
        total=sum(by_status.values()), pending=by_status.get("pending", 0),
        completed=by_status.get("completed", 0), responses=responses,
        over_annotation=sum(max(0, (count or 0) - min_submitted) * n for count, n in by_count.items()),
    )


async def annotator_progress(storage: Storage, caller: Caller, dataset: Doc) -> list[AnnotatorProgress]:
    """Everyone who answered or may answer the dataset (annotators: only themselves)."""
    pending = (await storage.queue.counts_by(dataset["_id"], "status")).get("pending", 0)
    answered = await storage.queue.answered_pending(dataset["_id"], STATUSES)
    members = await storage.users.listed([dataset["workspace_id"]])
    rows = {doc["_id"]: AnnotatorProgress(doc["_id"], pending) for doc in members}
    for (user_id, status), n in (await storage.responses.counts(dataset["_id"])).items():
        rows.setdefault(user_id, AnnotatorProgress(user_id, pending)).responses[status] = n
    visible = [row for row in rows.values()
               if policy_responses.sees_all(caller) or row.user_id == caller.id]
    names = {doc["_id"]: doc["username"] for doc in members}
    missing = [row.user_id for row in visible if row.user_id not in names]
    names.update({doc["_id"]: doc["username"] for doc in await storage.users.by_ids(missing)})
    for row in visible:
        row.available = pending - answered.get(str(row.user_id), 0)
        row.username = names.get(row.user_id, "")
    return sorted(visible, key=lambda row: row.user_id)
