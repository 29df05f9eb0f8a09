"""The SDK retries what may have reached the service only with the mutation's own
Idempotency-Key: an answer lost to a client timeout, or a TIMEOUT answer, costs one effect."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import feedbackql as fb
from feedbackql.transport import is_mutation
from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests.conftest import OWNER_KEY
from tests.live import live_server

RECORDS = 1_000
FILLER = " ".join(f"word{n}" for n in range(600))
"""About 5 KB a record: enough that adding 1,000 of them outlasts the 0.3 s timeouts below
however fast the machine (checking, word indexing and writing 5 MB; 2.5 MB took only 1.7 times
as long as the timeout here)."""


class Sent:
    """What the SDK put on the wire: each POST's Idempotency-Key and each answer's status."""

    def __init__(self) -> None:
        self.keys: list[str | None] = []
        self.statuses: list[int] = []

    async def request(self, request: httpx.Request) -> None:
        if request.method == "POST":
            self.keys.append(request.headers.get("Idempotency-Key"))

    async def response(self, response: httpx.Response) -> None:
        self.statuses.append(response.status_code)

    def client(self, base: str, timeout: float) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base, timeout=timeout,
                                 event_hooks={"request": [self.request], "response": [self.response]})


def push_and_add(base: str, sent: Sent, timeout: float) -> tuple[fb.AddRecordsReport, int]:
    """A dataset pushed by a patient client, then 1,000 records without external ids added in
    one call by an impatient one; the report and how many records the dataset holds."""
    dataset = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[fb.TextQuestion("completion")])
    with fb.Client(base, api_key=OWNER_KEY) as patient:
        dataset.push(patient, name="lost", workspace="retries")
        with fb.Client(base, api_key=OWNER_KEY, http=sent.client(base, timeout), max_retries=10,
                       backoff=0.2) as impatient:
            pushed = fb.FeedbackDataset.pull(impatient, name="lost", workspace="retries")
            report = pushed.add_records([fb.Record(fields={"prompt": f"p{i} {FILLER}"}) for i in range(RECORDS)],
                                        batch_size=RECORDS, show_progress=False)
        count = patient.execute("query($id: ID!) { records(datasetId: $id, first: 1) { totalCount } }",
                                {"id": dataset.id})["records"]["totalCount"]
    return report, count


@pytest.fixture
def url(settings: Settings, builtin_registry: KindRegistry) -> Iterator[str]:
    with live_server(create_app(settings, builtin_registry)) as base:
        yield base


def test_an_answer_lost_to_a_client_timeout_is_retried_with_its_key_and_done_once(url: str) -> None:
    sent = Sent()
    report, count = push_and_add(url, sent, timeout=0.3)
    keyed = [key for key in sent.keys if key is not None]
    assert len(keyed) > 1, "the first attempt was expected to time out"
    assert len(set(keyed)) == 1  # one mutation, one key, however often it was sent
    assert (report.created, report.errors) == (RECORDS, [])
    assert count == RECORDS


def test_a_timeout_answer_is_retried_and_the_work_is_done_once(
        settings: Settings, builtin_registry: KindRegistry) -> None:
    hurried = settings.model_copy(update={"request_timeout_seconds": 0.3})
    sent = Sent()
    with live_server(create_app(hurried, builtin_registry)) as base:
        report, count = push_and_add(base, sent, timeout=30)
    assert 503 in sent.statuses  # the service said TIMEOUT at least once, and the SDK tried again
    assert (report.created, count) == (RECORDS, RECORDS)


def test_only_mutations_carry_a_key() -> None:
    assert is_mutation("mutation { a }")
    assert is_mutation("# add\n  mutation Add($x: Int) { a }")
    assert not is_mutation("query { mutation }")
    assert not is_mutation("{ me { username } }")


def test_every_code_has_its_class() -> None:
    assert isinstance(fb.errors.from_graphql({"message": "m", "extensions": {"code": "TIMEOUT"}}),
                      fb.ServiceTimeoutError)
    assert isinstance(fb.errors.from_graphql({"extensions": {"code": "PLUGIN_ERROR"}}), fb.PluginError)
    future = fb.errors.from_graphql({"message": "m", "extensions": {"code": "SOMETHING_NEW"}})
    assert type(future) is fb.FeedbackQLError
    assert future.code == "SOMETHING_NEW"
