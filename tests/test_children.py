"""Supervised children (database/children.py) with a plain process in place of a database:
restarted after kill -9, stopped with the supervision, and a recorded PID stopped at the next
start only while it is still the recorded process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from feedbackql_server.database.children import ChildSpec, Records, supervised
from feedbackql_server.database.processes import identity

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(300)"]


def _spec(tmp_path: Path) -> ChildSpec:
    return ChildSpec("sleeper", SLEEPER, tmp_path / "sleeper.log", ready=lambda pid: identity(pid) is not None)


def _wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_killed_child_is_started_again_and_stopped_with_the_supervision(tmp_path: Path) -> None:
    records = Records(tmp_path / "children.json")
    with supervised(_spec(tmp_path), records) as child:
        assert child.process is not None
        first = child.process.pid
        assert records.read()["sleeper"].pid == first
        _wait_for(lambda: "up" in (tmp_path / "sleeper.log").read_text())
        child.process.send_signal(signal.SIGKILL)
        _wait_for(lambda: child.process is not None and child.process.pid != first and child.process.poll() is None)
        second = child.process.pid
        _wait_for(lambda: records.read().get("sleeper") is not None and records.read()["sleeper"].pid == second)
        _wait_for(lambda: (tmp_path / "sleeper.log").read_text().count("up") == 2)  # both wrote to the log
    assert identity(second) is None
    assert records.read() == {}
    assert (tmp_path / "sleeper.log").stat().st_mode & 0o777 == 0o600


def test_only_a_recorded_process_that_is_still_the_same_is_stopped(tmp_path: Path) -> None:
    records = Records(tmp_path / "children.json")
    ours = subprocess.Popen(SLEEPER, stdout=subprocess.DEVNULL)
    stranger = subprocess.Popen([*SLEEPER, "stranger"], stdout=subprocess.DEVNULL)
    try:
        _wait_for(lambda: identity(ours.pid) is not None and identity(stranger.pid) is not None)
        ours_now, stranger_now = identity(ours.pid), identity(stranger.pid)
        assert ours_now is not None
        assert stranger_now is not None
        records.put("ferretdb", ours_now)
        # A PID reused by another program: same number, another command line and start time.
        records.put("postgresql", type(stranger_now)(stranger_now.pid, stranger_now.started + 100, tuple(SLEEPER)))
        assert records.stop_leftovers() == [ours.pid]
        assert ours.wait(10) == -signal.SIGTERM
        assert stranger.poll() is None
        assert records.read() == {}
    finally:
        for process in (ours, stranger):
            process.kill()
            process.wait()
