"""The SDK covers what ML engineers wrote GraphQL for: members, the queue, answers with
expected versions, unified answers, agreement, progress, finding and deleting records, and
exports streamed to a file — with typed results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import feedbackql as fb
from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests.conftest import OWNER_KEY
from tests.live import live_server


@pytest.fixture
def url(settings: Settings, builtin_registry: KindRegistry) -> Iterator[str]:
    with live_server(create_app(settings, builtin_registry)) as base:
        yield base


def test_a_labeling_round_through_the_sdk(url: str, tmp_path: Path) -> None:
    with fb.Client(url, api_key=OWNER_KEY) as owner:
        dataset = fb.FeedbackDataset(fields=[fb.TextField("prompt")],
                                     questions=[fb.RatingQuestion("quality", values=[1, 2, 3])], min_submitted=2)
        dataset.push(owner, name="round", workspace="team")
        dataset.add_records([fb.Record(fields={"prompt": f"prompt {i}"}, external_id=f"r{i}") for i in range(4)],
                            show_progress=False)
        labelers = [owner.create_user(name) for name in ("ann", "bob")]
        members = [owner.add_workspace_member("team", created.user.username) for created in labelers]
        assert [m.username for m in members] == ["ann", "bob"]
        for created, rating in zip(labelers, (3, 3), strict=True):
            with fb.Client(url, api_key=created.api_key) as labeler:
                work = fb.FeedbackDataset.pull(labeler, name="round", workspace="team")
                skipped, *_ = work.next_records(first=1)
                assert work.release(skipped.id) is True
                for record in work.next_records(first=4):
                    answer = work.submit(record.id, {"quality": rating}, status="draft")
                    assert isinstance(answer, fb.SubmittedResponse)
                    assert answer.status == "draft"
                    with pytest.raises(fb.ConflictError) as stale:
                        work.submit(record.id, {"quality": rating}, expected_version=0)
                    assert stale.value.current_version == answer.version
                    work.submit(record.id, {"quality": rating}, expected_version=answer.version)
        assert dataset.progress() == fb.Progress(total=4, pending=0, completed=4, submitted=8, draft=0, discarded=0)
        unified = dataset.unified_answers("quality")
        assert sorted((u.external_id, u.value, u.submitted, u.tie) for u in unified) == [
            (f"r{i}", 3.0, 2, False) for i in range(4)]
        agreement = dataset.agreement("quality")
        assert (agreement.question, agreement.level, agreement.records) == ("quality", "interval", 4)

        (found,) = list(dataset.records(external_ids=["r2"]))
        assert found.fields == {"prompt": "prompt 2"}
        assert [r.external_id for r in dataset.records(text="PROMPT 3")] == ["r3"]

        downloaded = dataset.download(tmp_path / "records.jsonl")
        assert downloaded.bytes == (tmp_path / "records.jsonl").stat().st_size
        lines = [json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines()]
        assert len(lines) == 4
        assert not (tmp_path / "records.jsonl.part").exists()

        assert dataset.delete_records([found.id]) == 1
        assert dataset.progress().total == 3


def test_a_failed_download_leaves_no_file(url: str, tmp_path: Path) -> None:
    with fb.Client(url, api_key=OWNER_KEY) as owner:
        dataset = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[fb.TextQuestion("completion")])
        dataset.push(owner, name="files", workspace="team")
        with pytest.raises(fb.FeedbackQLError):
            dataset.download(tmp_path / "rows.jsonl", task="no_such_task")
        assert list(tmp_path.iterdir()) == []
