"""``feedbackql datasets``, the import's progress bar with its total, and Ctrl-C during an
import, against a real server over HTTP."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import feedbackql as fb
from feedbackql import transfer
from feedbackql_server.app import create_app
from feedbackql_server.cli import main
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests.conftest import OWNER_KEY
from tests.live import live_server

ROWS = 1_200


@pytest.fixture
def served(settings: Settings, builtin_registry: KindRegistry) -> Iterator[tuple[str, fb.Client, str]]:
    with live_server(create_app(settings, builtin_registry)) as url, fb.Client(url, api_key=OWNER_KEY) as client:
        dataset = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[fb.TextQuestion("completion")])
        dataset.push(client, name="prompts", workspace="team")
        assert dataset.id is not None
        yield url, client, dataset.id


def prompts(tmp_path: Path) -> Path:
    source = tmp_path / "prompts.jsonl"
    source.write_text("".join(json.dumps({"prompt": f"p{i}"}) + "\n" for i in range(ROWS)))
    return source


def test_datasets_lists_what_the_key_can_see(served: tuple[str, fb.Client, str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    url, client, dataset_id = served
    assert main(["datasets", "--url", url, "--api-key", OWNER_KEY]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["ID", "WORKSPACE", "NAME", "STATUS", "COMPLETED", "RECORDS", "SUBMITTED"]
    assert row.split() == [dataset_id, "team", "prompts", "ready", "0", "0", "0"]
    stranger = client.create_user("outsider")
    assert main(["datasets", "--url", url, "--api-key", stranger.api_key]) == 0
    assert capsys.readouterr().out == ""


def test_the_import_progress_bar_has_a_total(served: tuple[str, fb.Client, str], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    url, _, dataset_id = served
    assert main(["import", dataset_id, str(prompts(tmp_path)), "--url", url, "--api-key", OWNER_KEY]) == 0
    assert f"{ROWS}/{ROWS}" in capsys.readouterr().err


def test_ctrl_c_during_an_import_says_what_went_in(served: tuple[str, fb.Client, str], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url, client, dataset_id = served
    real = transfer.read_rows

    def stopped_by_a_person(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
        for number, row in real(path):
            if number == 1_100:
                raise KeyboardInterrupt  # as Ctrl-C arrives while rows are read
            yield number, row

    monkeypatch.setattr(transfer, "read_rows", stopped_by_a_person)
    assert main(["import", dataset_id, str(prompts(tmp_path)), "--url", url, "--api-key", OWNER_KEY]) == 130
    captured = capsys.readouterr()
    assert "created 1000, updated 0, unchanged 0, refused 0" in captured.out
    assert "interrupted: the service took" in captured.err
    assert "up to line/row 1000" in captured.err
    assert "Traceback" not in captured.err
    (summary,) = client.datasets()
    assert summary.total == 1_000


@pytest.mark.parametrize("keyed", [False, True])
def test_ctrl_c_while_a_batch_is_on_its_way_leaves_no_noise(served: tuple[str, fb.Client, str], tmp_path: Path,
                                                            keyed: bool) -> None:
    """A real Ctrl-C (SIGINT to the command) while a batch is on its way: the interrupted call
    is cancelled before the client closes (it printed "Task was destroyed but it is pending!"),
    and the advice fits the file (a file with external ids is simply imported again)."""
    url, client, dataset_id = served
    source = tmp_path / "many.jsonl"
    source.write_text("".join(json.dumps({"prompt": "p" * 2_000, **({"external_id": f"e{i}"} if keyed else {})})
                              + "\n" for i in range(30_000)))
    command = subprocess.Popen([sys.executable, "-m", "feedbackql_server", "import", dataset_id, str(source),
                                "--url", url, "--api-key", OWNER_KEY],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # Waits for the command's own progress bar to show a batch stored, not for the listing: in
    # two full runs the import ended before the polled listing showed a record.
    progress = _ProgressBar(command)
    assert progress.wait_for_rows(1), progress.text
    time.sleep(0.3)  # the next batch of rows of 2 kB is on its way most of the time
    command.send_signal(signal.SIGINT)
    command.wait(timeout=60)
    err = progress.finish()
    assert command.returncode == 130, err
    assert 0 < client.datasets()[0].total < 30_000
    assert "interrupted: the service took" in err
    assert "Task was destroyed" not in err, err
    assert "Traceback" not in err, err
    if "were on their way" in err:
        advice = "import the file again" if keyed else "re-import with an external id column"
        assert advice in err, err


class _ProgressBar:
    """The import's stderr as it comes (its progress bar redraws with carriage returns)."""

    def __init__(self, command: subprocess.Popen[str]) -> None:
        assert command.stderr is not None
        self.stream = command.stderr
        self.chunks: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while chunk := self.stream.read(1):
            self.chunks.append(chunk)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def wait_for_rows(self, rows: int, seconds: float = 60) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.reader.is_alive():
            if any(int(done) >= rows for done in re.findall(r"(\d+)/30000", self.text)):
                return True
            time.sleep(0.01)
        return False

    def finish(self) -> str:
        self.reader.join(timeout=60)
        self.stream.close()
        return self.text
