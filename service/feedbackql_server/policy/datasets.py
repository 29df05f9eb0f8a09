"""Datasets: visible to their workspace's members, managed by its admins and owners."""

from __future__ import annotations

from feedbackql_server.documents import DatasetDoc
from feedbackql_server.errors import Forbidden, NotFound
from feedbackql_server.policy.caller import Caller


def visible(caller: Caller, dataset: DatasetDoc) -> bool:
    """Members see their workspace's datasets; annotators only once they are published."""
    if not caller.member_of(dataset["workspace_id"]):
        return False
    return not caller.is_annotator or dataset["status"] == "ready"


def readable(caller: Caller, dataset: DatasetDoc | None, ref: object) -> DatasetDoc:
    if dataset is None or not visible(caller, dataset):
        raise NotFound(f"dataset {ref} does not exist")
    return dataset


CHANGE = "change datasets and records"
READ_IN_BULK = "read a dataset's answers in bulk (exports, training data, agreement, unified answers)"


def manageable(caller: Caller, dataset: DatasetDoc | None, ref: object, action: str = CHANGE) -> DatasetDoc:
    """The dataset, if the caller manages its workspace; ``action`` says, in the refusal, what
    only managers do (a read refused as "change" misleads whoever reads the message)."""
    dataset = readable(caller, dataset, ref)
    if not caller.manages(dataset["workspace_id"]):
        raise Forbidden(f"only owners and the workspace's admins {action}")
    return dataset


def hidden_metadata(caller: Caller, dataset: DatasetDoc) -> frozenset[str]:
    """Names of the metadata properties the caller must not see."""
    if not caller.is_annotator:
        return frozenset()
    return frozenset(p["name"] for p in dataset.get("metadata_properties", ())
                     if not p.get("visible_for_annotators", True))
