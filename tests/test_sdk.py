"""The Python SDK against a real service: error mapping, retries, the asynchronous client,
and plugin kinds the SDK does not know."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

import feedbackql as fb
from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry, load_registry
from feedbackql_server.settings import Settings
from tests.conftest import OWNER_KEY
from tests.live import live_server


@pytest.fixture
def url(settings: Settings, builtin_registry: KindRegistry) -> Iterator[str]:
    with live_server(create_app(settings, builtin_registry)) as base:
        yield base


@pytest.fixture
def client(url: str) -> Iterator[fb.Client]:
    with fb.Client(url, api_key=OWNER_KEY) as sdk:
        yield sdk


SUBMIT = "mutation($input: ResponseInput!) { submitResponse(input: $input) { version } }"


def sft() -> fb.FeedbackDataset:
    return fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[fb.TextQuestion("completion")])


def test_mistakes_the_sdk_can_see_are_raised_before_the_network() -> None:
    with pytest.raises(fb.ValidationError, match="2 to 11"):
        fb.RatingQuestion(name="q", values=[3])
    with pytest.raises(fb.ValidationError, match="unique"):
        fb.LabelQuestion(name="q", labels=["a", "a"])
    with pytest.raises(fb.ValidationError, match="name"):
        fb.TextField(name="Not A Name")
    with pytest.raises(fb.ValidationError, match="unique"):
        fb.FeedbackDataset(fields=[fb.TextField("a"), fb.TextField("a")], questions=[])
    with pytest.raises(fb.ValidationError, match="push or pull"):
        sft().add_records([])


def test_server_errors_become_typed_exceptions(client: fb.Client, url: str) -> None:
    dataset = sft()
    dataset.push(client, name="errors", workspace="sdk")
    with pytest.raises(fb.ValidationError) as caught:
        dataset.add_records([fb.Record(fields={"prompt": "x"},
                                       suggestions=[fb.Suggestion("completion", "ok", score=3.0)])],
                            show_progress=False, raise_on_error=True)
    assert caught.value.path == ["records", 0]
    with pytest.raises(fb.ConflictError):
        sft().push(client, name="errors", workspace="sdk")
    with pytest.raises(fb.NotFoundError):
        fb.FeedbackDataset.pull(client, name="missing", workspace="sdk")
    with pytest.raises(fb.ValidationError) as invalid:
        client.execute("mutation { createWorkspace(name: \"Bad Name\") { id } }")
    assert invalid.value.path == ["name"]
    dataset.add_records([fb.Record(fields={"prompt": "x"})], show_progress=False, raise_on_error=True)
    (record,) = list(fb.FeedbackDataset.pull(client, name="errors", workspace="sdk").records())
    with pytest.raises(fb.ValidationError) as missing:
        dataset.submit(record.id, {})
    assert [(p["question"], p["reason"]) for p in missing.value.problems] == [("completion", "required")]
    first = client.execute(SUBMIT, {"input": {"recordId": record.id, "status": "DRAFT", "values": [],
                                              "expectedVersion": 0}})
    with pytest.raises(fb.ConflictError) as stale:
        client.execute(SUBMIT, {"input": {"recordId": record.id, "status": "DRAFT", "values": [],
                                          "expectedVersion": 0}})
    assert stale.value.current_version == first["submitResponse"]["version"]
    with fb.Client(url, api_key="wrong") as stranger, pytest.raises(fb.AuthenticationError):
        stranger.me()
    annotator = client.create_user("ann", workspaces=["sdk"])
    with fb.Client(url, api_key=annotator.api_key) as as_annotator, pytest.raises(fb.ForbiddenError):
        as_annotator.create_workspace("mine")


def test_rate_limits_are_waited_out_and_validation_errors_are_not_retried(
    settings: Settings, builtin_registry: KindRegistry,
) -> None:
    limited = settings.model_copy(update={"rate_limit_per_second": 2, "rate_limit_burst": 2})
    sent: list[str] = []

    async def count(request: httpx.Request) -> None:
        sent.append(request.url.path)

    with live_server(create_app(limited, builtin_registry)) as base:
        http = httpx.AsyncClient(base_url=base, event_hooks={"request": [count]})
        with fb.Client(base, api_key=OWNER_KEY, http=http, backoff=0.01) as sdk:
            for _ in range(5):
                assert sdk.me().username == "owner"
            assert len(sent) > 5  # some calls were refused with RATE_LIMITED and sent again
            time.sleep(0.6)  # let the bucket refill: the next call is not rate limited
            sent.clear()
            with pytest.raises(fb.ValidationError):
                sdk.create_workspace("Bad Name")
            assert len(sent) == 1


def test_connection_failures_are_retried_then_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    attempts: list[int] = []

    async def count(request: httpx.Request) -> None:
        attempts.append(1)

    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", event_hooks={"request": [count]})
    with (fb.Client(f"http://127.0.0.1:{port}", api_key="k", http=http, max_retries=2, backoff=0.01) as sdk,
          pytest.raises(fb.ConnectionFailed)):
        sdk.me()
    assert len(attempts) == 3


async def test_the_async_client_has_the_same_methods(url: str) -> None:
    async with fb.AsyncClient(url, api_key=OWNER_KEY) as client:
        dataset = fb.FeedbackDataset[fb.AsyncClient](fields=[fb.TextField("prompt")],
                                                     questions=[fb.LabelQuestion("topic", labels=["a", "b"])])
        await dataset.push(client, name="async", workspace="aio")
        report = await dataset.add_records([fb.Record(fields={"prompt": f"p{i}"}, external_id=str(i),
                                                      suggestions=[fb.Suggestion("topic", "a")])
                                            for i in range(250)], batch_size=100, show_progress=False)
        assert (report.created, report.updated, report.errors) == (250, 0, [])
        again = await dataset.add_records([fb.Record(fields={"prompt": "p0"}, external_id="0")], show_progress=False)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 1)  # its suggestion kept
        seen = [record async for record in dataset.records(page_size=100)]
        assert len(seen) == 250
        assert seen[1].suggestions == [fb.Suggestion("topic", "a", None, None)]
        answered = await dataset.add_records([fb.Record(fields={"prompt": "q"}, external_id="answered", responses=[
            fb.Response("owner", "submitted", {"topic": "b"})])], show_progress=False)
        assert (answered.created, answered.responses, answered.errors) == (1, 1, [])
        edited = await dataset.add_records([fb.Record(fields={"prompt": "EDITED"}, external_id="answered")],
                                           show_progress=False)
        assert (edited.updated, edited.refused, edited.errors[0].code) == (0, 1, "CONFLICT")
        kept = await dataset.add_records([fb.Record(fields={"prompt": "EDITED"}, external_id="answered")],
                                         show_progress=False, on_conflict="keep_responses")
        assert (kept.updated, kept.errors) == (1, [])
        last = [record async for record in dataset.records(page_size=100)][-1]
        assert (last.fields, last.responses) == ({"prompt": "EDITED"}, [fb.Response("owner", "submitted", {"topic": "b"})])
        pulled = await fb.FeedbackDataset.pull(client, name="async", workspace="aio")
        assert [(q.name, q.kind, q.settings) for q in pulled.questions] == [
            (q.name, q.kind, q.settings) for q in dataset.questions]
        assert isinstance(pulled.questions[0], fb.LabelQuestion)
        assert [w.name for w in await client.workspaces()] == ["aio"]


def test_a_plugin_kind_round_trips_through_the_generic_question(settings: Settings) -> None:
    with live_server(create_app(settings, load_registry())) as base, fb.Client(base, api_key=OWNER_KEY) as client:
        slider = fb.Question(name="confidence", kind="slider", settings={"min": 0, "max": 1, "step": 0.1})
        dataset = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[slider])
        dataset.push(client, name="plugin", workspace="plugins")
        dataset.add_records([fb.Record(fields={"prompt": "p"}, suggestions=[fb.Suggestion("confidence", 0.4)])],
                            show_progress=False, raise_on_error=True)
        pulled = fb.FeedbackDataset.pull(client, name="plugin", workspace="plugins")
        (question,) = pulled.questions
        assert type(question) is fb.Question
        assert (question.kind, question.settings) == ("slider", {"min": 0.0, "max": 1.0, "step": 0.1})
        (record,) = list(pulled.records())
        assert record.suggestions[0].value == 0.4
        pulled.submit(record.id, {"confidence": 0.7})
        assert [r.values for r in next(iter(pulled.records())).responses] == [{"confidence": 0.7}]


def test_span_questions_round_trip(client: fb.Client) -> None:
    entities = fb.SpanQuestion("entities", "text", {"PER": "Person", "LOC": "Place"})
    dataset = fb.FeedbackDataset(fields=[fb.TextField("text")], questions=[entities])
    dataset.push(client, name="ner", workspace="spans")
    dataset.add_records([fb.Record(fields={"text": "Ada in Paris"},
                                   suggestions=[fb.Suggestion("entities", [(7, 12, "LOC"), (0, 3, "PER")])])],
                        show_progress=False, raise_on_error=True)
    pulled = fb.FeedbackDataset.pull(client, name="ner", workspace="spans")
    (question,) = pulled.questions
    assert isinstance(question, fb.SpanQuestion)
    assert (question.settings["field"], question.labels) == ("text", ["PER", "LOC"])
    (record,) = list(pulled.records())
    assert record.suggestions[0].value == [{"start": 0, "end": 3, "label": "PER"}, {"start": 7, "end": 12, "label": "LOC"}]
    pulled.submit(record.id, {"entities": [(0, 3, "PER")]})
    assert [r.values for r in next(iter(pulled.records())).responses] == [
        {"entities": [{"start": 0, "end": 3, "label": "PER"}]}]
    with pytest.raises(fb.ValidationError, match="beyond the end of the text"):
        pulled.submit(record.id, {"entities": [(0, 99, "PER")]})


def test_rows_become_a_hugging_face_dataset() -> None:
    table = fb.to_datasets([{"prompt": "p", "chosen": "a", "rejected": "b"}])
    assert table.column_names == ["prompt", "chosen", "rejected"]
    assert table[0]["chosen"] == "a"
