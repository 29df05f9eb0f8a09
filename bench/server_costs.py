"""What the served process tree spends during a bench block: CPU seconds of the service, of
FerretDB and of PostgreSQL (its backends included, those that ended too), PostgreSQL backends
started, and what the service asked of the database (``bench/probe/sitecustomize.py``: bucket
reads sent and answered, driver connections opened)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from pathlib import Path

import psutil

PROBE_FOLDER = str(Path(__file__).parent / "probe")
SAMPLE_SECONDS = 0.02


def _cpu(process: psutil.Process, reaped: bool = False) -> float:
    with_children = process.cpu_times()
    total = with_children.user + with_children.system
    if reaped:  # children that ended and were waited for (PostgreSQL's backends)
        total += with_children.children_user + with_children.children_system
    return total


class ServerCosts:
    """Snapshots of the service (``pid``) and its database children; ``probe``: the probe's file."""

    def __init__(self, pid: int, probe: Path) -> None:
        self.service = psutil.Process(pid)
        self.probe = probe
        self.backends: set[int] = set()
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def _processes(self) -> dict[str, list[psutil.Process]]:
        found: dict[str, list[psutil.Process]] = {"ferretdb": [], "postgres": []}
        for child in self.service.children(recursive=True):
            try:
                name = child.name()
            except psutil.Error:
                continue
            for kind, processes in found.items():
                if kind in name:
                    processes.append(child)
        return found

    def _postmaster(self, postgres: list[psutil.Process]) -> psutil.Process | None:
        pids = {process.pid for process in postgres}
        return next((process for process in postgres if process.ppid() not in pids), None)

    def _watch(self) -> None:
        """Every PostgreSQL process seen: backends that live a few ms are counted too."""
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.backends.update(process.pid for process in self._processes()["postgres"])
            time.sleep(SAMPLE_SECONDS)

    def snapshot(self) -> Counter[str]:
        taken: Counter[str] = Counter()
        processes = self._processes()
        postmaster = self._postmaster(processes["postgres"])
        try:
            taken["service CPU s"] = _cpu(self.service)
            taken["FerretDB CPU s"] = sum(_cpu(process) for process in processes["ferretdb"])
            taken["PostgreSQL CPU s"] = sum(_cpu(process, reaped=process is postmaster)
                                            for process in processes["postgres"])
        except psutil.Error:
            pass
        taken["PostgreSQL processes started"] = len(self.backends)
        with contextlib.suppress(OSError, ValueError):
            taken.update(json.loads(self.probe.read_text()))
        return taken

    def close(self) -> None:
        self._stop.set()
