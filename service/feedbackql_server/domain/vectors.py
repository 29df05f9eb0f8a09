"""Vector spaces of a dataset and the vectors records carry in them.

A dataset names its spaces (dimension, metric); spaces can be added and removed at any time,
published datasets included, since they change no field, question or answer. A vector is
checked up front — its space exists, it has the space's dimension, every value is a finite
number — and refused as ``VALIDATION`` for its record alone.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from bson import ObjectId

from feedbackql_server.documents import DatasetDoc, VectorSpaceDoc
from feedbackql_server.domain.datasets import get_dataset
from feedbackql_server.errors import Conflict, Invalid, NotFound, all_of
from feedbackql_server.storage import Storage
from feedbackql_server.storage.vectors import Entry, Sequenced, vector_id

METRICS = ("cosine", "dot", "l2")
MAX_DIMENSION = 4096
"""16 KB of float32 per vector: within a record's share of a wire message many times over."""
MAX_SPACES = 10
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class VectorSpace:
    name: str
    dimension: int
    metric: str
    key: str

    @classmethod
    def of(cls, doc: VectorSpaceDoc) -> VectorSpace:
        return cls(doc["name"], doc["dimension"], doc["metric"], doc["key"])


def spaces_of(dataset: DatasetDoc) -> list[VectorSpace]:
    return [VectorSpace.of(doc) for doc in dataset.get("vector_spaces", [])]


def space_named(dataset: DatasetDoc, name: str, path: Sequence[str | int] = ("space",)) -> VectorSpace:
    for space in spaces_of(dataset):
        if space.name == name:
            return space
    known = ", ".join(repr(s.name) for s in spaces_of(dataset)) or "none yet: add one with addVectorSpace"
    raise Invalid(f"dataset {dataset['name']!r} has no vector space {name!r} (its spaces: {known})", path)


def as_float32(space: VectorSpace, raw: Any, path: Sequence[str | int]) -> np.ndarray[Any, np.dtype[np.float32]]:
    """``raw`` (a list of numbers, or the base64 of little-endian float32 bytes) as the space's
    float32 vector, or ``Invalid`` saying what is wrong with it."""
    if isinstance(raw, str):
        return _from_base64(space, raw, path)
    vector = _plainly_good(space, raw)
    return vector if vector is not None else _checked_one_by_one(space, raw, path)


def _from_base64(space: VectorSpace, raw: str, path: Sequence[str | int]) -> np.ndarray[Any, np.dtype[np.float32]]:
    """A vector sent as base64: 4 bytes a value instead of about 20 characters of JSON number,
    encoded and decoded in C (a 384-dimension batch of 1,000 records: 8 MB of JSON numbers,
    0.2 s to encode in Python and 0.1 s to parse here)."""
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(f"a vector of space {space.name!r} given as text is the base64 of its little-endian float32 "
                      "values", path, reason="base64") from None
    if len(data) != 4 * space.dimension:
        raise Invalid(f"space {space.name!r} has dimension {space.dimension}; this vector has {len(data) / 4:g} "
                      f"values ({len(data)} bytes of float32, sent as base64)", path, reason="dimension")
    vector = np.frombuffer(data, dtype="<f4").astype(np.float32)
    finite = np.isfinite(vector)
    if not finite.all():
        bad = int(np.argmin(finite))
        raise Invalid(f"vector values are finite float32 numbers; value {bad} is {float(vector[bad])!r}",
                      [*path, bad], reason="not_finite")
    if space.metric == "cosine" and not np.any(vector):
        raise Invalid("a cosine space takes no all-zero vector (it has no direction)", path, reason="zero")
    return vector


NUMBERS = {int, float}
"""The types of JSON numbers (``bool`` is not among them)."""


def _plainly_good(space: VectorSpace, raw: Any) -> np.ndarray[Any, np.dtype[np.float32]] | None:
    """The vector when it is plainly good, checked with numpy at once (value by value in Python
    was a third of an ingest's checks: 384 values a record); None sends it to the checks that
    say what is wrong."""
    if not isinstance(raw, list) or len(raw) != space.dimension or not set(map(type, raw)) <= NUMBERS:
        return None
    try:
        values = np.asarray(raw, dtype=np.float64)
    except OverflowError:  # an int beyond any float
        return None
    if not np.all(np.abs(values) <= 3.4e38):
        return None
    vector = values.astype(np.float32)  # zero where a value is below float32's smallest (1e-46)
    if space.metric == "cosine" and not np.any(vector):
        return None
    return vector


def _checked_one_by_one(space: VectorSpace, raw: Any,
                        path: Sequence[str | int]) -> np.ndarray[Any, np.dtype[np.float32]]:
    if not isinstance(raw, list) or any(isinstance(x, bool) or not isinstance(x, int | float) for x in raw):
        raise Invalid(f"a vector of space {space.name!r} is a list of {space.dimension} numbers", path)
    if len(raw) != space.dimension:
        raise Invalid(f"space {space.name!r} has dimension {space.dimension}; this vector has {len(raw)} values",
                      path, reason="dimension")
    bad = next((i for i, x in enumerate(raw) if abs(x) > 3.4e38 or not math.isfinite(x)), None)  # ints first: 10**400
    if bad is not None:
        raise Invalid(f"vector values are finite float32 numbers; value {bad} is {raw[bad]!r}",
                      [*path, bad], reason="not_finite")
    vector = np.asarray(raw, dtype=np.float32)
    if space.metric == "cosine" and not np.any(vector):
        raise Invalid("a cosine space takes no all-zero vector (it has no direction)", path, reason="zero")
    return vector


def checked_vectors(dataset: DatasetDoc, raw: Any, path: Sequence[str | int] = ("vectors",)) -> dict[str, bytes]:
    """A record's vectors (space name -> list of numbers) as stored bytes by space key."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise Invalid("vectors is an object: space name -> list of numbers", path)
    found: dict[str, bytes] = {}
    errors: list[Invalid] = []
    for name, values in raw.items():
        try:
            space = space_named(dataset, str(name), [*path, str(name)])
            found[space.key] = as_float32(space, values, [*path, str(name)]).tobytes()
        except Invalid as error:
            errors.append(error)
    if errors:
        raise all_of(errors)
    return found


@dataclass(frozen=True)
class SpaceSpec:
    name: str
    dimension: int
    metric: str = "cosine"


def _checked_spec(dataset: DatasetDoc, spec: SpaceSpec) -> None:
    if not NAME.match(spec.name):
        raise Invalid("a space name is 1 to 64 letters, digits, '_' or '-', starting with a letter or '_'",
                      ["space", "name"])
    if not 1 <= spec.dimension <= MAX_DIMENSION:
        raise Invalid(f"dimension is between 1 and {MAX_DIMENSION}", ["space", "dimension"])
    if spec.metric not in METRICS:
        raise Invalid(f"metric is one of {', '.join(METRICS)}", ["space", "metric"])
    names = [s.name for s in spaces_of(dataset)]
    if spec.name in names:
        raise Conflict(f"dataset {dataset['name']!r} has a vector space {spec.name!r} already; remove it first")
    if len(names) >= MAX_SPACES:
        raise Invalid(f"a dataset has at most {MAX_SPACES} vector spaces", ["space"])


async def add_space(storage: Storage, dataset_id: ObjectId, spec: SpaceSpec) -> DatasetDoc:
    dataset = await get_dataset(storage, dataset_id)
    _checked_spec(dataset, spec)
    doc = VectorSpaceDoc(name=spec.name, dimension=spec.dimension, metric=spec.metric, key=str(ObjectId()))
    return await _set_spaces(storage, dataset, [*dataset.get("vector_spaces", []), doc])


async def remove_space(storage: Storage, dataset_id: ObjectId, name: str) -> DatasetDoc:
    """The space goes at once; its stored vectors are deleted after (a search can no longer
    name them, and a space added again under the name has a new key)."""
    dataset = await get_dataset(storage, dataset_id)
    space = space_named(dataset, name, ["name"])
    kept = [doc for doc in dataset.get("vector_spaces", []) if doc["key"] != space.key]
    updated = await _set_spaces(storage, dataset, kept)
    await storage.vectors.delete_space(dataset_id, space.key)
    return updated


async def _set_spaces(storage: Storage, dataset: DatasetDoc, spaces: list[VectorSpaceDoc]) -> DatasetDoc:
    """Compare-and-set on ``vector_revision``: two admins changing spaces at once do not
    lose one change."""
    revision = dataset.get("vector_revision")
    when: dict[str, Any] = {"vector_revision": revision} if revision is not None else {
        "vector_revision": {"$exists": False}}
    updated = await storage.datasets.update(dataset["_id"], {"vector_spaces": spaces,
                                                             "vector_revision": (revision or 0) + 1}, when=when)
    if updated is None:
        if await storage.datasets.get(dataset["_id"]) is None:
            raise NotFound(f"dataset {dataset['_id']} does not exist")
        raise Conflict("the dataset's vector spaces changed meanwhile; read them again and retry")
    return updated


async def write_vectors(storage: Storage, dataset: DatasetDoc, by_record: Mapping[ObjectId, Mapping[str, bytes]],
                        buckets: Mapping[ObjectId, str], before: Sequenced) -> None:
    """Store checked vectors (record -> space key -> bytes), one write per space; each
    vector document keeps its record's bucket, which an export reads them by. ``dataset`` is
    as read before the vectors were checked against its spaces, ``before`` the vector sequence
    as read before the records were known to exist: what a deletion meanwhile missed is
    deleted after (``_drop_deleted_meanwhile``)."""
    per_space: dict[str, list[Entry]] = {}
    for record_id, vectors in by_record.items():
        for key, values in vectors.items():
            per_space.setdefault(key, []).append((record_id, values, buckets[record_id]))
    for key, entries in per_space.items():
        await storage.vectors.write(dataset["_id"], key, entries)
    if per_space:
        await _drop_deleted_meanwhile(storage, dataset, by_record, before)


async def _drop_deleted_meanwhile(storage: Storage, dataset: DatasetDoc,
                                  by_record: Mapping[ObjectId, Mapping[str, bytes]], before: Sequenced) -> None:
    """Delete the vectors just written for records, spaces or a dataset deleted meanwhile.

    A record deletion counts itself in the sequence (``Sequenced.deletions``), a space's removal
    moves the dataset's ``vector_revision`` and a dataset's deletion marks it ``deleting``; each
    then deletes the vectors it finds. A vector that landed after that is left to its writer,
    which reads both again here, after writing: whichever came first, one of the two deletes it.
    Nothing moved (the common case): two reads and no more."""
    dataset_id = dataset["_id"]
    after, now = await asyncio.gather(storage.vectors.version(dataset_id), storage.datasets.get(dataset_id))
    written = {key for vectors in by_record.values() for key in vectors}
    live = set() if now is None or now.get("deleting") else {space.key for space in spaces_of(now)}
    if written - live:  # a removed space's (or deleted dataset's) vectors go outright: no copy follows them
        await storage.vectors.delete_ids([vector_id(record_id, key) for record_id in by_record
                                          for key in sorted(written - live)])
    if after.deletions != before.deletions and written & live:
        existing = {doc["_id"] for doc in await storage.records.by_ids(list(by_record))
                    if doc["dataset_id"] == dataset_id}
        gone = [record_id for record_id in by_record if record_id not in existing]
        await storage.vectors.delete_of_records(dataset_id, gone, sorted(written & live))
