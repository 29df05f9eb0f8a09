"""Database processes as supervised children of the service.

Each child is started from a thread that lives as long as the supervision, with the kernel
told to signal it when that thread's process dies (``PR_SET_PDEATHSIG``): after ``kill -9``
of the service, FerretDB and PostgreSQL stop (PostgreSQL with its fast shutdown) instead of
staying up, open, as orphans (as they did). A child that dies while the service runs is started again after a
growing pause (0.5 s doubling to 10 s, back to 0.5 s once it has run a minute); the previous
process is always reaped first, so there is never a second one on the same data. Children run
in their own session, so a Ctrl-C meant for the service reaches them only through it.

Every start is recorded (PID, start time, command line) in ``run/children.json``; at the next
start a process found there is stopped only if its start time and command line are still
the recorded ones, since a PID alone may by then belong to anything.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from feedbackql_server.database.errors import DatabaseUnavailable
from feedbackql_server.database.logfiles import copy_output
from feedbackql_server.database.private import Account
from feedbackql_server.database.processes import Identity, identity, still_running, terminate

log = logging.getLogger("feedbackql_server.database")
PR_SET_PDEATHSIG = 1
STARTUP_SECONDS = 30
START_ATTEMPTS = 3
STOP_SECONDS = 10
FIRST_PAUSE, LONGEST_PAUSE, STABLE_SECONDS = 0.5, 10.0, 60.0


@dataclass
class ChildSpec:
    """What to run and how to tell it is ready; ``prepare`` runs before every start."""

    name: str
    command: list[str]
    log: Path
    ready: Callable[[int], bool]
    """Given the child's PID: whether it accepts connections."""
    stop_signal: int = signal.SIGTERM
    account: Account = field(default_factory=Account)
    prepare: Callable[[], None] = lambda: None
    scrub: Callable[[str], str] = lambda line: line
    """What the child's output lines go through before they are written to its log."""
    restart: bool = True
    """False only where a test plays the outage itself."""


class Records:
    """``run/children.json``: the processes this data folder's service started."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    def read(self) -> dict[str, Identity]:
        try:
            loaded = json.loads(self.path.read_text())
            return {name: Identity(entry["pid"], entry["started"], tuple(entry["cmdline"]))
                    for name, entry in loaded.items()}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return {}

    def put(self, name: str, process: Identity | None) -> None:
        with self.lock:
            records = self.read()
            records.pop(name, None)
            if process is not None:
                records[name] = process
            self.path.write_text(json.dumps({key: asdict(value) for key, value in records.items()}))

    def stop_leftovers(self) -> list[int]:
        """Stop the recorded processes that are still the same processes; their PIDs."""
        stopped = []
        for name, record in self.read().items():
            if still_running(record):
                log.warning("stopping %s (PID %d), left running by an earlier service", name, record.pid)
                terminate(record)
                stopped.append(record.pid)
        with self.lock:
            self.path.write_text("{}")
        return stopped


def _die_with_parent(stop_signal: int) -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None  # prctl is Linux's; elsewhere a killed service may leave children behind
    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:  # in the child, after fork and the change of user, before exec
        libc.prctl(PR_SET_PDEATHSIG, stop_signal)
        if os.getppid() != parent:  # the service died before the line above
            os._exit(1)

    return preexec


class Supervised:
    """One child: started, watched and restarted by a thread of its own, stopped on ``stop``."""

    def __init__(self, spec: ChildSpec, records: Records) -> None:
        self.spec = spec
        self.records = records
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.gave_up = threading.Event()
        self.ready_once = False
        self.thread = threading.Thread(target=self._watch, name=f"supervise-{spec.name}", daemon=True)

    def start(self) -> None:
        """Start the child and wait until it is ready (else raise, with the log's path)."""
        self.thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and not self.gave_up.is_set():
            process = self.process
            if process is not None and process.poll() is None and self.spec.ready(process.pid):
                self.ready_once = True
                return
            time.sleep(0.1)
        self.stop()
        raise DatabaseUnavailable(f"{self.spec.name} did not start (at most {START_ATTEMPTS} tries within "
                                  f"{STARTUP_SECONDS}s); see {self.spec.log}")

    def stop(self) -> None:
        self.stopping.set()
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(self.spec.stop_signal)
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(STOP_SECONDS)
        self.records.put(self.spec.name, None)

    def _watch(self) -> None:
        try:
            self._keep_running()
        finally:
            self.gave_up.set()

    def _keep_running(self) -> None:
        pause, failed_starts = FIRST_PAUSE, 0
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                process = self._spawn()
                outcome = f"(PID {process.pid}) exited with code {process.wait()}"
            except (OSError, subprocess.SubprocessError, DatabaseUnavailable) as error:
                outcome = f"could not be started ({error})"
            if self.stopping.is_set() or not self.spec.restart:
                return
            if not self.ready_once:  # a few tries at start (a folder's permissions may be in flux)
                failed_starts += 1
                if failed_starts >= START_ATTEMPTS:
                    log.error("%s %s; giving up", self.spec.name, outcome)
                    return
            elif time.monotonic() - started > STABLE_SECONDS:
                pause = FIRST_PAUSE
            log.warning("%s %s; starting it again in %.1f s", self.spec.name, outcome, pause)
            self.stopping.wait(pause)
            pause = min(pause * 2, LONGEST_PAUSE)

    def _spawn(self) -> subprocess.Popen[bytes]:
        spec = self.spec
        spec.prepare()
        process = subprocess.Popen(spec.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   user=spec.account.uid, group=spec.account.gid,
                                   extra_groups=[] if spec.account.uid is not None else None,
                                   preexec_fn=_die_with_parent(spec.stop_signal))
        assert process.stdout is not None
        copy_output(process.stdout, spec.log, spec.name, spec.scrub)
        self.process = process
        self.records.put(spec.name, identity(process.pid))
        return process


@contextlib.contextmanager
def supervised(spec: ChildSpec, records: Records) -> Iterator[Supervised]:
    """``spec`` running, supervised, for the duration of the context."""
    child = Supervised(spec, records)
    child.start()
    try:
        yield child
    finally:
        child.stop()
