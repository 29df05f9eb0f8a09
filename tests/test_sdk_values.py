"""The SDK takes data as people hold it: numpy scalars and arrays and pandas' missing values
become plain JSON or refuse their own record only, and a failed push leaves nothing behind."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import feedbackql as fb
from feedbackql.values import MISSING, plain
from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests.conftest import OWNER_KEY
from tests.live import live_server


@pytest.fixture
def client(settings: Settings, builtin_registry: KindRegistry) -> Iterator[fb.Client]:
    with live_server(create_app(settings, builtin_registry)) as base, fb.Client(base, api_key=OWNER_KEY) as sdk:
        yield sdk


def test_numpy_and_pandas_values_become_plain_json() -> None:
    converted = plain({"i": np.int64(7), "f": np.float32(0.5), "b": np.bool_(True), "a": np.array([[1, 2], [3, 4]]),
                       "s": np.str_("x"), "t": pd.Timestamp("2024-01-02T03:04:05"), "d": datetime.date(2024, 1, 2),
                       "gaps": [np.nan, pd.NA, pd.NaT, None, 1.5]})
    assert converted == {"i": 7, "f": 0.5, "b": True, "a": [[1, 2], [3, 4]], "s": "x", "t": "2024-01-02T03:04:05",
                         "d": "2024-01-02", "gaps": [None, None, None, None, 1.5]}
    assert [type(converted[k]) for k in "ifbs"] == [int, float, bool, str]
    for missing in (np.nan, np.float64("nan"), pd.NA, pd.NaT, None):
        assert plain(missing) is MISSING
    with pytest.raises(fb.ValidationError, match=r"metadata\.x: infinity"):
        plain(math.inf, ["metadata", "x"])
    with pytest.raises(fb.ValidationError, match="a set has no JSON form"):
        plain({"tags": {"a"}})
    with pytest.raises(fb.ValidationError, match="keys are text"):
        plain({np.int64(1): "one"})


def test_a_load_of_dataframe_values_goes_in_record_by_record(client: fb.Client) -> None:
    dataset = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[fb.RatingQuestion("score", values=[1, 2, 3])])
    dataset.push(client, name="frame", workspace="pandas")
    frame = pd.DataFrame({"prompt": [f"p{i}" for i in range(100)], "length": np.arange(100, dtype=np.int64),
                          "weight": np.linspace(0, 1, 100, dtype=np.float32), "flag": np.arange(100) % 2 == 0,
                          "rating": pd.array([i % 3 + 1 for i in range(100)], dtype="Int64")})
    frame.loc[70, "weight"] = np.nan  # a missing number: the metadata value is left out
    frame["rating"] = frame["rating"].astype(object)
    frame.loc[5, "rating"] = pd.NA  # no suggestion for this record
    records = [fb.Record(fields={"prompt": row.prompt},
                         metadata={"length": row.length, "weight": row.weight, "flag": row.flag},
                         suggestions=[fb.Suggestion("score", row.rating, score=np.float32(0.75))],
                         external_id=np.int64(index))
               for index, row in enumerate(frame.itertuples())]
    records[80].metadata = {"tags": {"a", "b"}}  # cannot be JSON: this record alone is refused
    records[90].fields = {"prompt": np.nan}  # a missing required field: refused by the service
    report = dataset.add_records(records, batch_size=30, show_progress=False)
    assert report.created == 98
    assert [(e.index, e.code) for e in report.errors] == [(80, "VALIDATION"), (90, "VALIDATION")]
    assert "metadata.tags: a set has no JSON form" in report.errors[0].message
    assert "prompt" in report.errors[1].message
    stored = {r.external_id: r for r in dataset.records()}
    assert len(stored) == 98
    assert stored["3"].metadata == {"length": 3, "weight": pytest.approx(3 / 99, rel=1e-6), "flag": False}
    assert type(stored["3"].metadata["length"]) is int
    assert "weight" not in stored["70"].metadata
    assert stored["5"].suggestions == []
    assert [(s.value, s.score) for s in stored["6"].suggestions] == [(1, 0.75)]


def test_a_failed_push_leaves_nothing_behind_and_the_fixed_dataset_pushes(client: fb.Client) -> None:
    unpublishable = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[])
    with pytest.raises(fb.FeedbackQLError):
        unpublishable.push(client, name="chat", workspace="fresh")
    assert client.workspaces() == []  # the workspace this push created went too
    client.create_workspace("kept")
    with pytest.raises(fb.FeedbackQLError):
        unpublishable.push(client, name="chat", workspace="kept")
    with pytest.raises(fb.NotFoundError):
        fb.FeedbackDataset.pull(client, name="chat", workspace="kept")
    fixed = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[fb.TextQuestion("answer")])
    fixed.push(client, name="chat", workspace="kept")
    assert fb.FeedbackDataset.pull(client, name="chat", workspace="kept").id == fixed.id
    fixed.delete()
    with pytest.raises(fb.NotFoundError):
        fb.FeedbackDataset.pull(client, name="chat", workspace="kept")
    assert [w.name for w in client.workspaces()] == ["kept"]  # not created by the push: kept


def test_records_come_from_pandas_and_datasets_and_go_back(client: fb.Client) -> None:
    import datasets

    dataset = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[fb.RatingQuestion("score", values=[1, 2, 3])])
    dataset.push(client, name="frames", workspace="pandas")
    frame = pd.DataFrame({"id": np.arange(4), "question": [f"q{i}" for i in range(4)],
                          "source": ["web", "book", np.nan, "web"], "guess": [1, 2, 3, np.nan]})
    report = dataset.add_records(fb.records_from_pandas(frame, fields={"prompt": "question"}, metadata=["source"],
                                                        suggestions={"score": "guess"}, external_id="id"),
                                 show_progress=False)
    table = datasets.Dataset.from_pandas(frame.assign(id=frame["id"] + 10))
    from_table = dataset.add_records(fb.records_from_datasets(table, fields={"prompt": "question"}, external_id="id"),
                                     show_progress=False)
    assert (report.created, report.errors, from_table.created, from_table.errors) == (4, [], 4, [])
    records = sorted(dataset.records(), key=lambda r: int(r.external_id or 0))
    back = fb.to_pandas(records)
    assert list(back["external_id"]) == ["0", "1", "2", "3", "10", "11", "12", "13"]
    assert back.loc[2, "metadata"] == {}  # the missing source was left out
    assert [s["value"] for s in back.loc[0, "suggestions"]] == [1]
    assert back.loc[3, "suggestions"] == []  # NaN: no suggestion
    assert fb.to_datasets(records).num_rows == 8
    rows = fb.to_pandas([{"prompt": "p", "completion": "c"}])
    assert list(rows.columns) == ["prompt", "completion"]
