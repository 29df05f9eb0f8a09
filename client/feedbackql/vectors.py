"""Vector spaces, record vectors and "find similar" from the SDK (``docs/vectors.md``).

Vectors are any sequence of numbers (a list, a numpy array, a tensor's ``tolist()``). Records'
vectors are sent as the base64 of their little-endian float32 bytes, the form the service stores
(so nothing is lost that storage keeps): it is about a third of the text of a list of numbers and
the server decodes it without building a Python float per value, which took ingest with 384-
dimension vectors from 0.52x to 0.81x of ingest without them (``bench/vectors_server.py``). A value
that is not a finite float32 number is refused here, before the call, with the record's index."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from feedbackql.binding import AnyClient, asynchronous
from feedbackql.errors import ValidationError
from feedbackql.operations import RECORD_PARTS
from feedbackql.records import RemoteRecord

ADD_SPACE = """mutation($id: ID!, $space: VectorSpaceInput!) {
  addVectorSpace(datasetId: $id, space: $space) { name dimension metric } }"""
REMOVE_SPACE = "mutation($id: ID!, $name: String!) { removeVectorSpace(datasetId: $id, name: $name) { name } }"
SET_VECTORS = """mutation($id: ID!, $records: [RecordVectorsInput!]!) {
  setRecordVectors(datasetId: $id, records: $records) { updated refused errors { index code message } } }"""
SIMILAR = f"""query($id: ID!, $space: String!, $near: NearInput!, $first: Int!, $filter: RecordFilter,
                   $order: SimilarityOrder!) {{
  similarRecords(datasetId: $id, space: $space, near: $near, first: $first, filter: $filter, order: $order) {{
    exact items {{ score record {{ {RECORD_PARTS} }} }} }} }}"""
NEAR_DUPLICATES = f"""query($id: ID!, $space: String!, $threshold: Float!, $first: Int!, $after: String) {{
  nearDuplicates(datasetId: $id, space: $space, threshold: $threshold, first: $first, after: $after) {{
    exact hasNextPage endCursor pairs {{ score first {{ {RECORD_PARTS} }} second {{ {RECORD_PARTS} }} }} }} }}"""
BATCH = 500


@dataclass
class SimilarRecord:
    record: RemoteRecord
    score: float
    """Cosine similarity or dot product (higher is nearer), or L2 distance (lower is nearer)."""


@dataclass
class NearDuplicate:
    first: RemoteRecord
    second: RemoteRecord
    score: float
    """As ``SimilarRecord.score``: at least the threshold, or for L2 at most it."""


def vector_list(values: Iterable[Any], path: Sequence[str | int]) -> list[float]:
    """``values`` as a list of finite floats, or ``ValidationError`` at ``path``."""
    try:
        vector = [float(value) for value in values]
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"a vector is a sequence of numbers ({exc})", list(path)) from None
    bad = next((i for i, x in enumerate(vector) if not math.isfinite(x)), None)
    if bad is not None:
        raise ValidationError(f"vector values are finite numbers; value {bad} is {vector[bad]}", [*path, bad])
    return vector


def vector_text(values: Iterable[Any], path: Sequence[str | int]) -> str:
    """``values`` as the base64 of little-endian float32 bytes, or ``ValidationError`` at ``path``
    (a value too large for float32 included)."""
    vector = vector_list(values, path)
    try:
        packed = struct.pack(f"<{len(vector)}f", *vector)
    except OverflowError:
        bad = next(i for i, x in enumerate(vector) if not _packs(x))
        raise ValidationError(f"vector values are finite float32 numbers; value {bad} is {vector[bad]}",
                              [*path, bad]) from None
    return base64.b64encode(packed).decode("ascii")


def _packs(value: float) -> bool:
    try:
        struct.pack("<f", value)
    except OverflowError:
        return False
    return True


def vectors_input(vectors: Mapping[str, Iterable[Any]], path: Sequence[str | int] = ("vectors",)) -> dict[str, str]:
    return {name: vector_text(values, [*path, name]) for name, values in vectors.items()}


async def add_space(client: AnyClient, dataset_id: str, name: str, dimension: int, metric: str) -> None:
    await asynchronous(client).execute(ADD_SPACE, {"id": dataset_id, "space": {
        "name": name, "dimension": dimension, "metric": metric.upper()}})


async def remove_space(client: AnyClient, dataset_id: str, name: str) -> None:
    await asynchronous(client).execute(REMOVE_SPACE, {"id": dataset_id, "name": name})


async def set_vectors(client: AnyClient, dataset_id: str,
                      vectors: Mapping[str, Mapping[str, Iterable[Any]]]) -> list[tuple[str, str]]:
    """Set records' vectors (record id -> space -> vector); the refused ones as (record id, reason)."""
    entries = [{"recordId": record_id, "vectors": vectors_input(by_space, ["vectors", record_id])}
               for record_id, by_space in vectors.items()]
    refused: list[tuple[str, str]] = []
    for start in range(0, len(entries), BATCH):
        batch = entries[start:start + BATCH]
        result = (await asynchronous(client).execute(SET_VECTORS, {"id": dataset_id, "records": batch}))
        refused += [(batch[e["index"]]["recordId"], e["message"]) for e in result["setRecordVectors"]["errors"]]
    return refused


async def similar(client: AnyClient, dataset_id: str, space: str, near: dict[str, Any], first: int,
                  filter_: dict[str, Any] | None, least: bool) -> list[SimilarRecord]:
    data = await asynchronous(client).execute(SIMILAR, {
        "id": dataset_id, "space": space, "near": near, "first": first, "filter": filter_,
        "order": "LEAST_SIMILAR" if least else "MOST_SIMILAR"})
    return [SimilarRecord(RemoteRecord.from_server(item["record"]), item["score"])
            for item in data["similarRecords"]["items"]]


async def near_duplicates(client: AnyClient, dataset_id: str, space: str, threshold: float,
                          page_size: int) -> list[NearDuplicate]:
    """Every pair of the space at least ``threshold`` similar (L2: at most ``threshold`` apart),
    each once, following the pages' cursors."""
    pairs: list[NearDuplicate] = []
    after: str | None = None
    while True:
        page = (await asynchronous(client).execute(NEAR_DUPLICATES, {
            "id": dataset_id, "space": space, "threshold": threshold, "first": page_size,
            "after": after}))["nearDuplicates"]
        pairs += [NearDuplicate(RemoteRecord.from_server(pair["first"]), RemoteRecord.from_server(pair["second"]),
                                pair["score"]) for pair in page["pairs"]]
        if not page["hasNextPage"]:
            return pairs
        after = page["endCursor"]
