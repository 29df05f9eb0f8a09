"""A plugin contributes a training task through ``feedbackql_training_tasks``: it is listed,
served over HTTP and GraphQL like the built-ins, and a broken one stops start-up by name."""

from __future__ import annotations

import csv
import io
import time
import types
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from feedbackql_server.kinds import QuestionKind, hookimpl
from feedbackql_server.kinds.columns import FLOAT, INTEGER, TEXT, Column
from feedbackql_server.kinds.registry import PluginError, load_registry
from feedbackql_server.kinds.tasks import Row, TaskRecord, TaskRequest, TrainingTask, Unsuitable
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import serve

OPTIONS = [{"value": "pos", "text": "Positive"}, {"value": "neg", "text": "Negative"}]
TRAINING = """query($id: ID!, $o: TrainingOptionsInput) {
  trainingData(datasetId: $id, task: "label_counts", options: $o) { rows rules } }"""


class LabelCounts(TrainingTask):
    """How often each label was chosen on a record."""

    name = "label_counts"
    description = "Per record: how many labelers chose each label."
    columns = ("external_id", "counts")

    def __init__(self, request: TaskRequest) -> None:
        super().__init__(request)
        if request.question.kind.name != "label":
            raise Unsuitable("label_counts needs a label question")

    def rules(self) -> dict[str, Any]:
        return {"rows": "one per answered record"}

    def rows(self, record: TaskRecord) -> Iterable[Row]:
        return [{"external_id": record.external_id, "counts": dict(Counter(record.answers))}] if record.answers else []


def task_plugin(*tasks: Any) -> types.ModuleType:
    plugin = types.ModuleType("counting")
    plugin.__version__ = "2.1"  # type: ignore[attr-defined]

    @hookimpl
    def feedbackql_training_tasks() -> list[Any]:
        return list(tasks)

    plugin.feedbackql_training_tasks = feedbackql_training_tasks  # type: ignore[attr-defined]
    return plugin


async def test_a_plugin_task_is_served_like_a_builtin(settings: Settings) -> None:
    async with serve(settings, load_registry(builtin_only=True, extra_plugins=[task_plugin(LabelCounts)])) as gql:
        listed = {t["name"]: t for t in (await gql("{ trainingTasks { name plugin version columns } }"))["trainingTasks"]}
        assert listed["label_counts"] == {"name": "label_counts", "plugin": "counting", "version": "2.1",
                                          "columns": ["external_id", "counts"]}
        assert {"sft", "dpo", "reward_modeling", "rating_selection", "token_classification"} <= set(listed)
        ws = await h.workspace(gql)
        dataset = await h.dataset(gql, ws, fields=[{"name": "prompt", "settings": h.TEXT}],
                                  questions=[{"name": "sentiment", "settings": {"label": {"options": OPTIONS}}},
                                             {"name": "note", "required": False, "settings": {"text": {}}}])
        await h.add_records(gql, dataset["id"], [{"externalId": "r1", "fields": {"prompt": "p"}}])
        record = (await gql(h.RECORDS, {"id": dataset["id"], "first": 1}))["records"]["edges"][0]["node"]["id"]
        await gql(h.SUBMIT, {"input": {"recordId": record, "status": "SUBMITTED",
                                       "values": [{"question": "sentiment", "value": {"label": "pos"}}]}})
        data = (await gql(TRAINING, {"id": dataset["id"], "o": {"question": "sentiment"}}))["trainingData"]
        assert data["rows"] == [{"external_id": "r1", "counts": {"pos": 1}}]
        assert {k: data["rules"][k] for k in ("task", "question", "rows")} == {
            "task": "label_counts", "question": "sentiment", "rows": "one per answered record"}
        assert data["rules"]["columns"] == {"external_id": "string", "counts": "json"}  # undeclared: inferred
        refused = await gql.error(TRAINING, {"id": dataset["id"], "o": {"question": "note"}})
        assert (refused["extensions"]["reason"], refused["message"]) == (
            "unsuitable_question", "question: label_counts needs a label question")
        download = await gql.http.get(f"/datasets/{dataset['id']}/training/label_counts?question=sentiment&format=csv",
                                      headers={"Authorization": f"Bearer {gql.api_key}"})
        assert list(csv.DictReader(io.StringIO(download.text))) == [{"external_id": "r1", "counts": '{"pos":1}'}]


class Nameless(TrainingTask):
    columns = ("a",)


class BadName(LabelCounts):
    name = "Label-Counts"


class NoColumns(LabelCounts):
    name = "no_columns"
    columns = ()


class Sft(LabelCounts):
    name = "sft"


@pytest.mark.parametrize(("task", "problem"), [
    (Nameless, "needs a `name`"), (BadName, "needs a `name`"), (NoColumns, "declares no `columns`"),
    (Sft, "'sft' is already registered by plugin 'sft_task'"), (dict, "is not a subclass of TrainingTask"),
])
def test_a_broken_task_stops_start_up_naming_its_plugin(task: Any, problem: str) -> None:
    with pytest.raises(PluginError, match="plugin 'counting'") as raised:
        load_registry(builtin_only=True, extra_plugins=[task_plugin(task)])
    assert problem in str(raised.value)


class LabelsOnly(LabelCounts):
    name = "labels_only"

    @classmethod
    def accepts(cls, kind: QuestionKind) -> bool:
        return kind.name in ("label", "multiLabel")


class Fussy(LabelCounts):
    name = "fussy"

    @classmethod
    def accepts(cls, kind: QuestionKind) -> bool:
        raise RuntimeError("no idea")


TASK_KINDS = "{ trainingTasks { name questionKinds uiOptions } }"


async def test_each_task_lists_the_question_kinds_it_accepts(settings: Settings) -> None:
    """A UI offers a task's download for the questions it can use (issue 23: the UI's buttons were
    hard-coded per built-in kind, so a plugin's task had none)."""
    registry = load_registry(builtin_only=True, extra_plugins=[task_plugin(LabelCounts, LabelsOnly)])
    async with serve(settings, registry) as gql:
        listed = {t["name"]: t for t in (await gql(TASK_KINDS))["trainingTasks"]}
    assert {name: listed[name]["questionKinds"] for name in
            ("sft", "reward_modeling", "dpo", "rating_selection", "token_classification", "labels_only")} == {
        "sft": ["text"], "reward_modeling": ["ranking"], "dpo": ["ranking"], "rating_selection": ["rating"],
        "token_classification": ["span"], "labels_only": ["label", "multiLabel"]}
    assert listed["label_counts"]["questionKinds"] == list(registry.questions)  # the default: every kind
    assert (listed["rating_selection"]["uiOptions"], listed["sft"]["uiOptions"]) == ({"threshold": 4}, {})


def test_a_task_whose_accepts_raises_stops_start_up_naming_it() -> None:
    with pytest.raises(PluginError, match=r"plugin 'counting'.*'fussy' raised RuntimeError in accepts\(\)"):
        load_registry(builtin_only=True, extra_plugins=[task_plugin(Fussy)])


class Votes(TrainingTask):
    """Declares its types: the count is written as a float everywhere, even from an int."""

    name = "votes"
    columns = ("external_id", "votes", "share")
    column_types: ClassVar[Mapping[str, Column]] = {"external_id": TEXT, "votes": INTEGER, "share": FLOAT}

    def rows(self, record: TaskRecord) -> Iterable[Row]:
        return [{"external_id": record.external_id, "votes": len(record.answers), "share": 1}] if record.answers else []


class TextVotes(Votes):
    """Accepts text questions only, and leaves the refusal to the core (its __init__ checks nothing)."""

    name = "text_votes"

    @classmethod
    def accepts(cls, kind: QuestionKind) -> bool:
        return kind.name == "text"


async def test_a_question_of_a_kind_the_task_does_not_accept_is_refused(settings: Settings) -> None:
    async with serve(settings, load_registry(builtin_only=True, extra_plugins=[task_plugin(TextVotes)])) as gql:
        ws = await h.workspace(gql)
        dataset = await h.dataset(gql, ws, fields=[{"name": "prompt", "settings": h.TEXT}],
                                  questions=[{"name": "sentiment", "settings": {"label": {"options": OPTIONS}}}])
        refused = await gql.error("""query($id: ID!) { trainingData(datasetId: $id, task: "text_votes",
          options: {question: "sentiment"}) { rows } }""", {"id": dataset["id"]})
    assert (refused["extensions"]["code"], refused["extensions"]["reason"]) == ("VALIDATION", "unsuitable_question")
    assert refused["message"] == "question: text_votes takes questions of the kinds ['text']; 'sentiment' is a label question"


class Liar(Votes):
    name = "liar"

    def rows(self, record: TaskRecord) -> Iterable[Row]:
        return [{"external_id": record.external_id, "votes": "three", "share": 1.0}] if record.answers else []


async def test_a_plugin_task_declares_its_column_types(settings: Settings) -> None:
    async with serve(settings, load_registry(builtin_only=True, extra_plugins=[task_plugin(Votes, Liar)])) as gql:
        ws = await h.workspace(gql)
        dataset = await h.dataset(gql, ws, fields=[{"name": "prompt", "settings": h.TEXT}],
                                  questions=[{"name": "sentiment", "settings": {"label": {"options": OPTIONS}}}])
        await h.add_records(gql, dataset["id"], [{"externalId": "r1", "fields": {"prompt": "p"}}])
        record = (await gql(h.RECORDS, {"id": dataset["id"], "first": 1}))["records"]["edges"][0]["node"]["id"]
        await gql(h.SUBMIT, {"input": {"recordId": record, "status": "SUBMITTED",
                                       "values": [{"question": "sentiment", "value": {"label": "pos"}}]}})
        headers = {"Authorization": f"Bearer {gql.api_key}"}
        download = await gql.http.get(f"/datasets/{dataset['id']}/training/votes?question=sentiment&format=parquet",
                                      headers=headers)
        table = pq.read_table(pa.BufferReader(download.content))
        assert table.schema.types == [pa.string(), pa.int64(), pa.float64()]
        assert table.to_pylist() == [{"external_id": "r1", "votes": 1, "share": 1.0}]
        assert type(table.to_pylist()[0]["share"]) is float
        refused = await gql.http.get(f"/datasets/{dataset['id']}/training/liar?question=sentiment", headers=headers)
        error = refused.json()["errors"][0]
        assert error["extensions"]["code"] == "PLUGIN_ERROR"
        assert "'liar'" in error["message"]
        assert "votes: str where the task declared integer" in error["message"]


class Slow(Votes):
    """Takes longer than the request deadline to get going."""

    name = "slow"

    def __init__(self, request: TaskRequest) -> None:
        super().__init__(request)
        time.sleep(0.8)


async def test_a_long_training_export_is_not_cut_by_the_request_deadline(settings: Settings) -> None:
    """The export makes every row before its headers (they state its counts): once its request
    is checked it is bounded like a started stream, not by the 0.5 s deadline."""
    registry = load_registry(builtin_only=True, extra_plugins=[task_plugin(Slow)])
    # The data is made under the usual deadline: on a loaded machine the first write to a new
    # database (its tables and indexes made) can itself take longer than 0.5 s.
    async with serve(settings, registry) as gql:
        ws = await h.workspace(gql)
        dataset = await h.dataset(gql, ws, fields=[{"name": "prompt", "settings": h.TEXT}],
                                  questions=[{"name": "sentiment", "settings": {"label": {"options": OPTIONS}}}])
        await h.add_records(gql, dataset["id"], [{"externalId": f"r{i}", "fields": {"prompt": "p"}} for i in range(3)])
        for edge in (await gql(h.RECORDS, {"id": dataset["id"], "first": 3}))["records"]["edges"]:
            await gql(h.SUBMIT, {"input": {"recordId": edge["node"]["id"], "status": "SUBMITTED",
                                           "values": [{"question": "sentiment", "value": {"label": "pos"}}]}})
    quick = settings.model_copy(update={"request_timeout_seconds": 0.5})
    async with serve(quick, registry) as gql:
        download = await gql.http.get(f"/datasets/{dataset['id']}/training/slow?question=sentiment",
                                      headers={"Authorization": f"Bearer {gql.api_key}"})
        assert download.status_code == 200, download.text
        assert len(download.text.splitlines()) == 3
