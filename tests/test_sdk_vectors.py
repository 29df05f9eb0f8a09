"""The SDK's vector calls against a live server: records with embeddings, vectors set later,
find similar with a filter, and values refused before the network."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

import feedbackql as fb
from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests.conftest import OWNER_KEY
from tests.live import live_server


@pytest.fixture
def client(settings: Settings, builtin_registry: KindRegistry) -> Iterator[fb.Client]:
    with live_server(create_app(settings, builtin_registry)) as url, fb.Client(url, api_key=OWNER_KEY) as sdk:
        yield sdk


def test_records_with_embeddings_then_find_similar(client: fb.Client) -> None:
    dataset = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[fb.TextQuestion("completion")],
                                 metadata_properties=[fb.MetadataProperty("lang")])
    dataset.push(client, name="vectors", workspace="sdk")
    dataset.add_vector_space("emb", 3)
    angles = [i * 0.3 for i in range(8)]
    report = dataset.add_records([
        fb.Record(fields={"prompt": f"p{i}"}, external_id=f"r{i}", metadata={"lang": "en" if i % 2 else "fr"},
                  vectors={"emb": (math.cos(a), math.sin(a), 0.0)}) for i, a in enumerate(angles)],
        show_progress=False)
    assert report.created == 8
    nearest = dataset.similar("emb", vector=[1, 0, 0], first=3)
    assert [item.record.external_id for item in nearest] == ["r0", "r1", "r2"]
    english = dataset.similar("emb", vector=[1, 0, 0], first=2, metadata={"lang": "en"})
    assert [item.record.external_id for item in english] == ["r1", "r3"]
    ids = {record.external_id: record.id for record in dataset.records()}
    assert dataset.set_vectors({ids["r7"]: {"emb": [1, 0, 0]}, ids["r6"]: {"emb": [1, 2]}}) == [
        (ids["r6"], "vectors.emb: space 'emb' has dimension 3; this vector has 2 values (8 bytes of float32, sent as base64)")]
    around = dataset.similar("emb", record_id=ids["r0"], first=1)
    assert around[0].record.external_id == "r7"
    assert around[0].score == pytest.approx(1.0)
    refused = dataset.add_records([fb.Record(fields={"prompt": "x"}, vectors={"emb": [float("nan"), 0, 0]})],
                                  show_progress=False)
    assert refused.created == 0
    assert "finite" in refused.errors[0].message
    beyond_float32 = dataset.add_records([fb.Record(fields={"prompt": "y"}, vectors={"emb": [0, 1e39, 0]})],
                                         show_progress=False)
    assert beyond_float32.created == 0
    assert "float32" in beyond_float32.errors[0].message
    assert "value 1 is 1e+39" in beyond_float32.errors[0].message


def test_records_from_frames_take_their_embeddings_from_a_column(client: fb.Client) -> None:
    import datasets
    import numpy as np
    import pandas

    dataset = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[fb.TextQuestion("completion")])
    dataset.push(client, name="frames", workspace="sdk")
    dataset.add_vector_space("emb", 2)
    frame = pandas.DataFrame({"text": ["x", "y", "none"], "key": ["x", "y", "none"],
                              "embedding": [np.asarray([1.0, 0.0], dtype=np.float32), np.asarray([0.0, 1.0]), np.nan]})
    table = datasets.Dataset.from_dict({"text": ["z"], "key": ["z"], "embedding": [[0.6, 0.8]]}).cast_column(
        "embedding", datasets.List(datasets.Value("float32"), length=2))
    records = [*fb.records_from_pandas(frame, fields={"prompt": "text"}, external_id="key", vectors={"emb": "embedding"}),
               *fb.records_from_datasets(table, fields={"prompt": "text"}, external_id="key",
                                         vectors={"emb": "embedding"})]
    assert [sorted(record.vectors) for record in records] == [["emb"], ["emb"], [], ["emb"]]
    assert dataset.add_records(records, show_progress=False).created == 4
    nearest = dataset.similar("emb", vector=[1, 0.1], first=3)
    assert [item.record.external_id for item in nearest] == ["x", "z", "y"]


def test_similar_takes_a_numpy_vector(client: fb.Client) -> None:
    """A numpy array has no truth value: the SDK raised ``ValueError`` before sending it."""
    import numpy as np

    dataset = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[fb.TextQuestion("completion")])
    dataset.push(client, name="numpy-near", workspace="sdk")
    dataset.add_vector_space("emb", 2)
    dataset.add_records([fb.Record(fields={"prompt": "a"}, external_id="a", vectors={"emb": [1.0, 0.0]}),
                         fb.Record(fields={"prompt": "b"}, external_id="b", vectors={"emb": [0.0, 1.0]})],
                        show_progress=False)
    nearest = dataset.similar("emb", vector=np.asarray([0.9, 0.1], dtype=np.float32), first=1)
    assert [item.record.external_id for item in nearest] == ["a"]
    with pytest.raises(fb.ValidationError, match="at least one value"):
        dataset.similar("emb", vector=np.zeros(0))


def test_next_records_near_a_record_and_near_duplicates(client: fb.Client) -> None:
    """The SDK covers the queue near a record and the near-duplicates pairs (it had neither)."""
    dataset = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[fb.TextQuestion("completion")])
    dataset.push(client, name="near-queue", workspace="sdk")
    dataset.add_vector_space("emb", 2)
    angles = [0.0, 0.05, 1.5, 0.1, 1.4, 0.0]
    dataset.add_records([fb.Record(fields={"prompt": f"p{i}"}, external_id=f"r{i}",
                                   vectors={"emb": [math.cos(a), math.sin(a)]}) for i, a in enumerate(angles)],
                        show_progress=False)
    ids = {record.external_id: record.id for record in dataset.records()}
    handed = dataset.next_records(2, near=ids["r2"], space="emb")
    assert [record.external_id for record in handed] == ["r4", "r3"]
    pairs = dataset.near_duplicates("emb", 0.998, page_size=1)
    assert sorted(tuple(sorted((p.first.external_id, p.second.external_id))) for p in pairs) == [
        ("r0", "r1"), ("r0", "r5"), ("r1", "r3"), ("r1", "r5")]
    assert all(p.score >= 0.998 for p in pairs)
