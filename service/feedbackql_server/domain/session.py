"""One home for "who may do what": a caller's session with the service.

Every operation the API offers is a method of ``Session``; each applies the policy
(``NOT_FOUND`` for what the caller may not see, ``FORBIDDEN`` for what they see but may not
change): most load what they name through it here, before the domain's rules run; answers
(``submit_responses``) pass straight to ``domain/responses.py``, which checks each record it
reads against the policy itself (`check_response`). The API layer calls only these methods; it
never reaches storage.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bson import ObjectId

from feedbackql_server.documents import DatasetDoc, RecordDoc, ResponseDoc, UserDoc, WorkspaceDoc
from feedbackql_server.domain import (
    agreement,
    identity,
    ingest,
    listing,
    members,
    progress,
    queue,
    responses,
    unification,
)
from feedbackql_server.domain import datasets as ds
from feedbackql_server.domain.config import DatasetConfig, FieldSpec, QuestionSpec
from feedbackql_server.domain.datasets import DatasetChanges, DatasetSpec
from feedbackql_server.domain.idempotency import IdempotentRequests
from feedbackql_server.domain.ingest import AddRecordsResult
from feedbackql_server.domain.loaders import Loaders
from feedbackql_server.domain.members import UserWithKey
from feedbackql_server.domain.queue import QueuePools
from feedbackql_server.domain.read_quota import ReadQuotas
from feedbackql_server.domain.readd import OnConflict
from feedbackql_server.domain.records import RecordSpec
from feedbackql_server.domain.responses import ResponseSpec
from feedbackql_server.domain.vector_index import VectorIndexes
from feedbackql_server.domain.vector_session import VectorSession
from feedbackql_server.errors import Invalid, NotFound, Unauthenticated
from feedbackql_server.events import Broker, Subscription, SubscriptionEnded
from feedbackql_server.export import training
from feedbackql_server.export.rows import record_rows
from feedbackql_server.export.selection import Selection
from feedbackql_server.ids import parse_id
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.paging import Keyset, RecordOrder
from feedbackql_server.policy import Caller
from feedbackql_server.policy import datasets as policy_datasets
from feedbackql_server.policy import records as policy_records
from feedbackql_server.policy import responses as policy_responses
from feedbackql_server.policy import workspaces as policy_workspaces
from feedbackql_server.storage import Storage
from feedbackql_server.storage.buckets import RecordPlace


@dataclass(frozen=True)
class Limits:
    max_page_size: int
    max_records_per_call: int
    lease_seconds: float
    max_scan_records: int = 2_000
    """Records a query may read whole when no index serves it (``domain/listing.py``)."""


@dataclass(frozen=True)
class Services:
    """What every session works with; one per process."""

    storage: Storage
    registry: KindRegistry
    events: Broker
    queue_pools: QueuePools
    limits: Limits
    vector_indexes: VectorIndexes = field(default_factory=VectorIndexes)
    """This process's copies of the datasets' vector spaces (``domain/vector_index.py``)."""
    read_quotas: ReadQuotas | None = None
    """Each caller's share of listing reads across requests (None: unlimited)."""

    async def authenticate(self, authorization: str | None) -> UserDoc | None:
        """The user an ``Authorization`` value names, or None."""
        return await identity.authenticate(self, authorization)

    def session(self, user: UserDoc) -> Session:
        return Session(self, user)

    async def session_for(self, authorization: str | None) -> Session:
        """The session of the user an ``Authorization`` value names; ``UNAUTHENTICATED``
        when it names none."""
        user = await self.authenticate(authorization)
        if user is None:
            raise Unauthenticated(Unauthenticated.MISSING_KEY)
        return self.session(user)


class Session:
    """An authenticated caller's operations, each with the policy applied."""

    def __init__(self, services: Services, user: UserDoc) -> None:
        self.services = services
        self.user = user
        self.caller = Caller.of(user)
        self.loaders = Loaders.of(services.storage)
        self.read_budget = listing.ReadBudget(quotas=services.read_quotas,
                                              user=identity.quota_id(user["api_key_hash"]))

    def idempotent_requests(self) -> IdempotentRequests:
        """The caller's ``Idempotency-Key`` claims and kept answers."""
        return IdempotentRequests(self.services.storage, self.user["_id"])

    @property
    def vectors(self) -> VectorSession:
        """Vector spaces, record vectors and ``similarRecords`` (``domain/vector_session.py``)."""
        return VectorSession(self, self.services.vector_indexes)

    @property
    def _storage(self) -> Storage:
        return self.services.storage

    def _check_page_size(self, first: int) -> None:
        limit = self.services.limits.max_page_size
        if not 1 <= first <= limit:
            raise Invalid(f"first is between 1 and {limit}", ["first"])

    # Reading what a request names ------------------------------------------------------

    async def workspace(self, ref: str, *, manage: bool = False) -> WorkspaceDoc:
        doc = await self.loaders.workspaces.load(parse_id(ref, "workspace"))
        check = policy_workspaces.manageable if manage else policy_workspaces.readable
        return check(self.caller, doc, ref)

    async def dataset(self, ref: str, *, manage: bool = False) -> DatasetDoc:
        doc = await self.loaders.datasets.load(parse_id(ref, "dataset"))
        check = policy_datasets.manageable if manage else policy_datasets.readable
        return check(self.caller, doc, ref)

    async def dataset_read_in_bulk(self, ref: str) -> DatasetDoc:
        """A dataset whose answers the caller reads all of (managers only)."""
        doc = await self.loaders.datasets.load(parse_id(ref, "dataset"))
        return policy_datasets.manageable(self.caller, doc, ref, policy_datasets.READ_IN_BULK)

    async def record(self, ref: str) -> tuple[RecordDoc, DatasetDoc]:
        """The record and its dataset."""
        doc = await self.loaders.records.load(parse_id(ref, "record"))
        dataset = await self.loaders.datasets.load(doc["dataset_id"]) if doc else None
        return policy_records.readable(self.caller, doc, dataset, ref)

    # Documents a visible one points at (a response's user, a dataset's workspace, a record's
    # dataset); they may vanish between two reads when they are deleted.

    async def user_of(self, user_id: ObjectId) -> UserDoc:
        return _present(await self.loaders.users.load(user_id), "user")

    async def workspace_of(self, workspace_id: ObjectId) -> WorkspaceDoc:
        return _present(await self.loaders.workspaces.load(workspace_id), "workspace")

    async def dataset_of(self, dataset_id: ObjectId) -> DatasetDoc:
        return _present(await self.loaders.datasets.load(dataset_id), "dataset")

    async def responses_to(self, record: RecordPlace) -> list[ResponseDoc]:
        """A visible record's responses: all for owners and admins, annotators their own."""
        return policy_responses.visible(self.caller, await self.loaders.responses.load(record))

    def sees_response_of(self, user_id: ObjectId) -> bool:
        return policy_responses.sees_all(self.caller) or user_id == self.caller.id

    def hidden_metadata(self, dataset: DatasetDoc) -> frozenset[str]:
        return policy_datasets.hidden_metadata(self.caller, dataset)

    async def workspaces_of(self, user_workspace_ids: Sequence[ObjectId]) -> list[WorkspaceDoc]:
        """A user's workspaces that the caller can see too."""
        ids = [w for w in user_workspace_ids if self.caller.member_of(w)]
        return [doc for doc in await self.loaders.workspaces.load_many(ids) if doc is not None]

    async def visible_users(self) -> list[UserDoc]:
        return await members.visible_users(self.services, self.caller)

    async def visible_workspaces(self) -> list[WorkspaceDoc]:
        return await self._storage.workspaces.listed(policy_workspaces.visible_ids(self.caller))

    async def datasets_in(self, workspace_ref: str) -> list[DatasetDoc]:
        workspace = await self.workspace(workspace_ref)
        docs = await self._storage.datasets.in_workspaces([workspace["_id"]])
        return [doc for doc in docs if policy_datasets.visible(self.caller, doc)]

    async def records(self, dataset_ref: str, criteria: listing.RecordCriteria | None, order: RecordOrder,
                      after: Keyset | None, first: int, answered_as: str | None = None,
                      counted: bool = False) -> listing.RecordPage:
        """A page of a dataset's records; with ``answered_as`` (a response status), only those
        the caller has a response of that status to; ``counted``: its total will be asked for."""
        self._check_page_size(first)
        self.read_budget.check()
        dataset = await self.dataset(dataset_ref)
        hidden = self.hidden_metadata(dataset)
        mine = ((answered_as,), str(self.caller.id)) if answered_as else None
        query = listing.query_for(dataset["_id"], criteria, self.caller, hidden, mine)
        return await listing.page(self.services, dataset, query, order, after, first, hidden, self.read_budget,
                                  counted=counted)

    # Progress ----------------------------------------------------------------------------

    async def dataset_progress(self, dataset: DatasetDoc, *, reread: bool = False) -> progress.DatasetProgress:
        """A visible dataset's progress; ``reread`` for a fresh copy of its counters."""
        current = (await self._storage.datasets.get(dataset["_id"]) or dataset) if reread else dataset
        return await progress.dataset_progress(self.services, current)

    async def own_progress(self, dataset: DatasetDoc) -> progress.AnnotatorProgress:
        figures = await progress.own_progress(self.services, self.caller, dataset)
        figures.username = self.user["username"]
        return figures

    async def annotator_progress(self, dataset_ref: str) -> list[progress.AnnotatorProgress]:
        dataset = await self.dataset(dataset_ref)
        return await progress.annotator_progress(self.services, self.caller, dataset)

    @contextlib.asynccontextmanager
    async def subscribe(self, dataset: DatasetDoc) -> AsyncIterator[Subscription]:
        """The dataset's events; its deletion ends them with ``NOT_FOUND``."""
        try:
            async with self.services.events.subscribe(dataset["_id"]) as events:
                yield events
        except SubscriptionEnded:
            raise NotFound(f"dataset {dataset['_id']} was deleted") from None

    # Workspaces and users (the rules check the caller: domain/members.py) ---------------------

    async def create_workspace(self, name: str) -> WorkspaceDoc:
        return await members.create_workspace(self.services, self.caller, name)

    async def delete_workspace(self, ref: str) -> WorkspaceDoc:
        return await members.delete_workspace(self.services, self.caller, parse_id(ref, "workspace"))

    async def create_user(self, username: str, role: str, workspace_refs: Sequence[str]) -> UserWithKey:
        workspace_ids = [parse_id(w, "workspace") for w in workspace_refs]
        return await members.create_user(self.services, self.caller, username, role, workspace_ids)

    async def rotate_api_key(self, user_ref: str) -> UserWithKey:
        return await members.rotate_api_key(self.services, self.caller, parse_id(user_ref, "user"))

    async def delete_user(self, ref: str) -> UserDoc:
        return await members.delete_user(self.services, self.caller, parse_id(ref, "user"))

    async def add_member(self, workspace_ref: str, user_ref: str) -> UserDoc:
        return await members.add_member(self.services, self.caller, parse_id(workspace_ref, "workspace"),
                                        parse_id(user_ref, "user"))

    async def remove_member(self, workspace_ref: str, user_ref: str) -> UserDoc:
        return await members.remove_member(self.services, self.caller, parse_id(workspace_ref, "workspace"),
                                           parse_id(user_ref, "user"))

    # Datasets ------------------------------------------------------------------------------

    async def create_dataset(self, workspace_ref: str, spec_for: Callable[[ObjectId], DatasetSpec]) -> DatasetDoc:
        workspace = await self.workspace(workspace_ref, manage=True)
        return await ds.create_dataset(self.services, spec_for(workspace["_id"]))

    async def add_field(self, dataset_ref: str, spec: FieldSpec) -> DatasetDoc:
        dataset = await self.dataset(dataset_ref, manage=True)
        return await ds.add_field(self.services, dataset["_id"], spec)

    async def add_question(self, dataset_ref: str, spec: QuestionSpec) -> DatasetDoc:
        dataset = await self.dataset(dataset_ref, manage=True)
        return await ds.add_question(self.services, dataset["_id"], spec)

    async def update_dataset(self, ref: str, changes: DatasetChanges) -> DatasetDoc:
        dataset = await self.dataset(ref, manage=True)
        updated = await ds.update_dataset(self.services, dataset["_id"], changes)
        if changes.min_submitted is not None:
            self.services.queue_pools.rewind(dataset["_id"])
        return updated

    async def publish_dataset(self, ref: str) -> DatasetDoc:
        dataset = await self.dataset(ref, manage=True)
        return await ds.publish_dataset(self.services, dataset["_id"])

    async def delete_dataset(self, ref: str) -> DatasetDoc:
        dataset = await self.dataset(ref, manage=True)
        return await ds.delete_dataset(self.services, dataset["_id"])

    # Records and the work queue --------------------------------------------------------------

    async def add_records(self, dataset_ref: str, specs: Sequence[RecordSpec],
                          on_conflict: OnConflict = OnConflict.REFUSE) -> AddRecordsResult:
        dataset = await self.dataset(dataset_ref, manage=True)
        return await ingest.add_records(self.services, dataset["_id"], specs, on_conflict=on_conflict)

    async def delete_records(self, dataset_ref: str, refs: Sequence[str]) -> list[ObjectId]:
        dataset = await self.dataset(dataset_ref, manage=True)
        record_ids = [parse_id(ref, "record") for ref in refs]
        return await ingest.delete_records(self.services, dataset["_id"], record_ids)

    async def next_records(self, dataset_ref: str, first: int) -> tuple[list[RecordDoc], DatasetDoc]:
        """Records leased to the caller, and their dataset; none while a required question
        cannot be answered (its plugin is missing): every answer would be refused."""
        dataset = await self.dataset(dataset_ref)
        blocked = DatasetConfig.of(dataset, self.services.registry).blocking_problem()
        if blocked is not None:
            raise blocked.unanswerable(dataset["name"])
        docs = await queue.next_records(self.services, dataset, self.caller.id, first)
        return docs, dataset

    async def release_record(self, record_ref: str, skip_minutes: int | None = None) -> bool:
        record, dataset = await self.record(record_ref)
        return await queue.release(self.services, dataset, record, self.caller.id, skip_minutes)

    # Responses (the rules check the caller: domain/responses.py) --------------------------------

    async def submit_responses(self, specs: Sequence[ResponseSpec], *, batch: bool = True) -> list[ResponseDoc]:
        return await responses.submit_responses(self.services, self.caller, specs, batch=batch)

    async def delete_response(self, record_ref: str) -> ResponseDoc:
        return await responses.delete_response(self.services, self.caller, parse_id(record_ref, "record"))

    # Training data (owners and admins) -----------------------------------------------------------

    async def unified_answers(self, dataset_ref: str, question: str, strategy: str | None,
                              after: Keyset | None, first: int, selection: Selection | None = None
                              ) -> tuple[list[unification.UnifiedRecord], bool]:
        self._check_page_size(first)
        dataset = await self.dataset_read_in_bulk(dataset_ref)
        asked = unification.question_of(self.services.registry, dataset, question, ["question"])
        chosen = unification.check_strategy(asked, strategy, ["strategy"])
        selection = selection or Selection()
        selection.check(asked)
        query = listing.query_for(dataset["_id"], None, self.caller)
        page = await listing.page(self.services, dataset, query, RecordOrder(), after, first, frozenset())
        unified = await unification.unify_records(self.services, asked, chosen, page.records)
        kept = [u for u in unified if selection.left_out(u.record, u.answers, asked) is None]
        return kept, page.has_next

    async def unified_answer(self, record_ref: str, question: str, strategy: str | None
                             ) -> unification.UnifiedRecord:
        """One record's submitted answers to a question, unified (managers only)."""
        record, dataset = await self.record(record_ref)
        policy_datasets.manageable(self.caller, dataset, str(dataset["_id"]), policy_datasets.READ_IN_BULK)
        asked = unification.question_of(self.services.registry, dataset, question, ["question"])
        chosen = unification.check_strategy(asked, strategy, ["strategy"])
        [unified] = await unification.unify_records(self.services, asked, chosen, [record])
        return unified

    async def agreement(self, dataset_ref: str, question: str) -> agreement.AgreementReport:
        dataset = await self.dataset_read_in_bulk(dataset_ref)
        asked = unification.question_of(self.services.registry, dataset, question, ["question"])
        return await agreement.agreement(self.services, dataset, asked)

    async def record_rows(self, dataset_ref: str) -> tuple[DatasetDoc, AsyncIterator[dict[str, Any]]]:
        """The record export (owners and the workspace's admins): the dataset and its rows, streamed."""
        dataset = await self.dataset_read_in_bulk(dataset_ref)
        return dataset, record_rows(self._storage, dataset)

    async def training_rows(self, dataset_ref: str, task: str, options: training.TrainingOptions
                            ) -> tuple[training.TrainingExport, AsyncIterator[Any]]:
        """A training task's plan and its rows, streamed."""
        dataset = await self.dataset_read_in_bulk(dataset_ref)
        plan = training.plan(self.services.registry, dataset, task, options)
        return plan, training.stream(self._storage, dataset, plan)


Found = TypeVar("Found")


def _present(doc: Found | None, what: str) -> Found:
    if doc is None:
        raise NotFound(f"the {what} was deleted")
    return doc
