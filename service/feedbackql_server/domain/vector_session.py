"""A caller's vector operations (``Session.vectors``), with the policy applied as everywhere:
spaces and vectors are managed by those who manage the dataset; a search sees what the caller
sees (published datasets for annotators, hidden metadata blanked from filters and results,
``myResponseStatus`` about their own responses)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from feedbackql_server.documents import DatasetDoc, RecordDoc
from feedbackql_server.domain import listing, near_duplicates, queue, similar
from feedbackql_server.domain import vectors as domain_vectors
from feedbackql_server.domain.vector_index import VectorIndexes
from feedbackql_server.errors import DomainError, Invalid, NotFound
from feedbackql_server.ids import parse_id

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Session

MAX_VECTORS_PER_CALL = 1_000
CANDIDATES_PER_LEASE = 5
"""Nearest pending records looked at per record wanted: some are leased or answered already."""


@dataclass(frozen=True)
class Near:
    """What to search near: a record's own vector in the space, or a given one."""

    record_id: str | None = None
    vector: Sequence[float] | None = None


@dataclass(frozen=True)
class SimilarQuery:
    dataset_ref: str
    space: str
    near: Near
    first: int = 10
    criteria: listing.RecordCriteria | None = None
    most_similar: bool = True


@dataclass(frozen=True)
class RecordVectors:
    record_id: str
    vectors: Mapping[str, Any]


class VectorSession:
    def __init__(self, session: Session, indexes: VectorIndexes) -> None:
        self.session = session
        self.indexes = indexes
        self.storage = session.services.storage

    async def spaces(self, dataset_ref: str) -> tuple[DatasetDoc, list[domain_vectors.VectorSpace]]:
        dataset = await self.session.dataset(dataset_ref)
        return dataset, domain_vectors.spaces_of(dataset)

    async def add_space(self, dataset_ref: str, spec: domain_vectors.SpaceSpec) -> DatasetDoc:
        dataset = await self.session.dataset(dataset_ref, manage=True)
        return await domain_vectors.add_space(self.storage, dataset["_id"], spec)

    async def remove_space(self, dataset_ref: str, name: str) -> DatasetDoc:
        """The space, its vectors, and this process's copy of it (in memory and saved)."""
        dataset = await self.session.dataset(dataset_ref, manage=True)
        removed = {space.key for space in domain_vectors.spaces_of(dataset)}
        updated = await domain_vectors.remove_space(self.storage, dataset["_id"], name)
        await self.indexes.forget(dataset["_id"], removed - {space.key for space in domain_vectors.spaces_of(updated)})
        return updated

    async def set_vectors(self, dataset_ref: str, entries: Sequence[RecordVectors]) -> list[tuple[int, DomainError]]:
        """Set records' vectors without touching their fields or answers; the entries refused,
        by index (the others are written)."""
        if len(entries) > MAX_VECTORS_PER_CALL:
            raise Invalid(f"at most {MAX_VECTORS_PER_CALL} records per call; split the batch", ["records"])
        dataset = await self.session.dataset(dataset_ref, manage=True)
        refused: list[tuple[int, DomainError]] = []
        checked: dict[Any, dict[str, bytes]] = {}
        named: dict[int, Any] = {}
        for number, entry in enumerate(entries):
            try:
                if isinstance(entry.vectors, Mapping) and not entry.vectors:
                    raise Invalid("vectors names at least one space: space name -> vector", ["vectors"])
                named[number] = parse_id(entry.record_id, "record")
                checked[named[number]] = domain_vectors.checked_vectors(dataset, entry.vectors)
            except DomainError as error:
                refused.append((number, error))
        before = await self.storage.vectors.version(dataset["_id"])  # before the records are known to exist
        present = {doc["_id"]: doc["bucket"] for doc in await self.storage.records.by_ids(list(checked))
                   if doc["dataset_id"] == dataset["_id"]}
        refused += [(number, NotFound(f"record {entries[number].record_id} is not in this dataset"))
                    for number, record_id in named.items() if record_id in checked and record_id not in present]
        await domain_vectors.write_vectors(self.storage, dataset,
                                           {key: value for key, value in checked.items() if key in present}, present,
                                           before)
        return sorted(refused, key=lambda item: item[0])

    async def similar(self, ask: SimilarQuery) -> tuple[similar.SimilarResult, frozenset[str]]:
        """The records nearest ``ask.near``, and the metadata the caller may not see."""
        self.session._check_page_size(ask.first)
        # The space's sequence is read with the dataset, not after it: one round trip where two
        # were (the catch-up needs no other read when nothing changed).
        dataset_id = parse_id(ask.dataset_ref, "dataset")
        dataset, sequence = await asyncio.gather(self.session.dataset(ask.dataset_ref),
                                                 self.storage.vectors.version(dataset_id))
        space = domain_vectors.space_named(dataset, ask.space)
        index = await self.indexes.ready(self.storage, dataset["_id"], space, sequence)
        vector, exclude = await self._near(dataset, space, index, ask.near)
        hidden = self.session.hidden_metadata(dataset)
        query = listing.query_for(dataset["_id"], ask.criteria, self.session.caller, hidden)
        result = await similar.search(self.storage, index, query, vector, ask.first, ask.most_similar, exclude,
                                      dataset.get("next_seq", 0))
        return result, hidden

    async def next_near(self, dataset_ref: str, space: str | None, near_ref: str,
                        first: int) -> tuple[list[RecordDoc], DatasetDoc]:
        """``nextRecords`` near a record: the pending records nearest it that are open to the
        caller, leased as usual; the rest of ``first`` from the usual queue."""
        if not 1 <= first <= queue.MAX_NEXT_RECORDS:
            raise Invalid(f"first is between 1 and {queue.MAX_NEXT_RECORDS}", ["first"])
        dataset, spaces = await self.spaces(dataset_ref)
        if space is None and len(spaces) != 1:
            raise Invalid("name the vector space to search near the record in (space)", ["space"])
        ask = SimilarQuery(dataset_ref, space or spaces[0].name, Near(record_id=near_ref),
                           first=min(self.session.services.limits.max_page_size, first * CANDIDATES_PER_LEASE),
                           criteria=listing.RecordCriteria(status="pending"))
        found, _ = await self.similar(ask)
        limits = self.session.services.limits
        leased = await queue.lease_candidates(self.storage, dataset, [item.record for item in found.items], first,
                                              self.session.caller.id, limits.lease_seconds)
        if len(leased) < first:
            more, _ = await self.session.next_records(dataset_ref, first - len(leased))
            leased += [doc for doc in more if all(doc["_id"] != had["_id"] for had in leased)]
        return leased, dataset

    async def near_duplicates(self, dataset_ref: str, space_name: str, threshold: float, first: int,
                              after: str | None) -> tuple[near_duplicates.PairPage, frozenset[str]]:
        """Pairs of records at least ``threshold`` similar (managers: cleaning a dataset)."""
        self.session._check_page_size(first)
        dataset = await self.session.dataset(dataset_ref, manage=True)
        space = domain_vectors.space_named(dataset, space_name)
        index = await self.indexes.ready(self.storage, dataset["_id"], space)
        found = await near_duplicates.page(self.storage, index, threshold, first, after)
        return found, self.session.hidden_metadata(dataset)

    async def _near(self, dataset: DatasetDoc, space: domain_vectors.VectorSpace, index: Any,
                    near: Near) -> tuple[Any, Any]:
        if (near.record_id is None) == (near.vector is None):
            raise Invalid("give exactly one of near.recordId and near.vector", ["near"])
        if near.vector is not None:
            vector = domain_vectors.as_float32(space, list(near.vector), ["near", "vector"])
            return vector, None
        record, of_dataset = await self.session.record(str(near.record_id))
        if of_dataset["_id"] != dataset["_id"]:
            raise Invalid(f"record {near.record_id} is in another dataset", ["near", "recordId"])
        found = index.vector_of(record["_id"])
        if found is None:
            raise Invalid(f"record {near.record_id} has no vector in space {space.name!r}; set one with "
                          "setRecordVectors", ["near", "recordId"], reason="no_vector")
        return np.asarray(found, dtype=np.float32), record["_id"]
