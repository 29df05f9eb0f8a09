"""Processes told apart by more than their PID, read from ``/proc``.

A PID file outlives its process and the PID is soon someone else's (the earlier
``.handle_pids.json`` held such PIDs). A process is taken to be the recorded one only if its
start time (clock ticks since boot, field 22 of ``/proc/PID/stat``) and its command line are
still the recorded ones.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
STOP_SECONDS = 10.0


@dataclass(frozen=True)
class Identity:
    pid: int
    started: int
    cmdline: tuple[str, ...]


def identity(pid: int) -> Identity | None:
    """The running process ``pid`` (None if there is none, or only its zombie)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # the name, in parentheses, may hold spaces
    if fields[0] == "Z":
        return None
    cmdline = tuple(part.decode(errors="replace") for part in raw.split(b"\0")[:-1])
    return Identity(pid, int(fields[19]), cmdline)


def still_running(recorded: Identity) -> bool:
    return identity(recorded.pid) == recorded


def terminate(recorded: Identity, stop_signal: int = signal.SIGTERM) -> None:
    """Ask the recorded process to stop, then kill it if it is still there after ``STOP_SECONDS``."""
    for sent, wait in ((stop_signal, STOP_SECONDS), (signal.SIGKILL, STOP_SECONDS)):
        if not still_running(recorded):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(recorded.pid, sent)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and still_running(recorded):
            time.sleep(0.05)


def running_with(argument: str) -> list[Identity]:
    """The running processes whose command line holds ``argument`` exactly."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            process = identity(int(entry.name))
            if process is not None and argument in process.cmdline:
                found.append(process)
    return found


TCP_TABLES = ("net/tcp", "net/tcp6")
LISTEN = "0A"
"""The state of a listening socket in ``/proc/net/tcp``."""


def tcp_listening_ports(pid: int) -> list[int]:
    """The TCP ports process ``pid`` listens on (its sockets' inodes, found in ``/proc/net/tcp``
    and ``tcp6``); empty when it has none, or is gone."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in (PROC / str(pid) / "fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:["):-1])
    ports = []
    for table in TCP_TABLES:
        with contextlib.suppress(OSError):
            for line in (PROC / str(pid) / table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == LISTEN and fields[9] in inodes:
                    ports.append(int(fields[1].rpartition(":")[2], 16))
    return sorted(set(ports))
