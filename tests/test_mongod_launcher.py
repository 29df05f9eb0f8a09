"""Issue 20: a ``mongod`` found on PATH was started on ``127.0.0.1:<port>`` without
authentication, so any local user owned it. It now gets a Unix socket in the private run folder
and no address; if it listens on TCP all the same, it is stopped and the start refused.

No mongod binary exists on these machines: the command line is checked as built, and the
launcher is run against stand-in executables named ``mongod`` that do what a mongod given
those arguments would (listen on the ``--bind_ip`` socket), or worse (also on TCP)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from feedbackql_server.database.errors import DatabaseUnavailable
from feedbackql_server.database.local import local_database, mongod_command
from feedbackql_server.database.processes import tcp_listening_ports

STAND_IN = """\
#!{python}
import socket, sys, time
args = sys.argv[1:]
where = args[args.index("--bind_ip") + 1]
listeners = []
for address in where.split(","):
    if "/" in address:
        unix = socket.socket(socket.AF_UNIX)
        unix.bind(address)
        listeners.append(unix)
    else:
        tcp = socket.socket()
        tcp.bind((address, 0))
        listeners.append(tcp)
if {also_tcp}:
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    listeners.append(tcp)
for listener in listeners:
    listener.listen()
print("listening", flush=True)
while True:
    time.sleep(1)
"""


def _stand_in(folder: Path, also_tcp: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mongod"
    path.write_text(textwrap.dedent(STAND_IN).format(python=sys.executable, also_tcp=also_tcp))
    path.chmod(0o755)
    return folder


def test_mongod_is_told_to_listen_on_a_private_socket_only(tmp_path: Path) -> None:
    sock = tmp_path / "run" / "mongod" / "mongod.sock"
    command = mongod_command("/usr/bin/mongod", tmp_path / "mongod", sock)
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert options["--bind_ip"] == str(sock)  # a socket path, and no address: no TCP listener
    assert options["--unixSocketPrefix"] == str(sock.parent)  # its second socket, not in /tmp
    assert options["--filePermissions"] == "0700"
    assert not any(address in " ".join(command) for address in ("127.0.0.1", "0.0.0.0", "localhost", "::"))


def test_a_mongod_on_path_is_reached_through_its_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{_stand_in(tmp_path / 'bin', also_tcp=False)}:{os.environ['PATH']}")
    with local_database(tmp_path / "data") as uri:
        sock = tmp_path / "data" / "run" / "mongod" / "mongod.sock"
        assert uri.startswith("mongodb://%2F")
        assert uri.split("/?")[0].endswith("mongod.sock")
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "data" / "mongod").stat().st_mode) == 0o700
        with socket.socket(socket.AF_UNIX) as probe:
            probe.connect(str(sock))


def test_a_mongod_that_listens_on_tcp_all_the_same_is_stopped_and_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{_stand_in(tmp_path / 'bin', also_tcp=True)}:{os.environ['PATH']}")
    with pytest.raises(DatabaseUnavailable, match="MONGODB_URI") as refused, local_database(tmp_path / "data"):
        pass
    assert "listens on TCP" in str(refused.value)
    stray = subprocess.run(["pgrep", "-f", str(tmp_path / "bin" / "mongod")], capture_output=True, text=True)
    assert stray.stdout == ""


def test_tcp_listeners_are_found_by_process() -> None:
    code = ("import socket, time\ns = socket.socket()\ns.bind(('127.0.0.1', 0)); s.listen()\n"
            "print(s.getsockname()[1], flush=True)\ntime.sleep(30)")
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as listener:
        try:
            assert listener.stdout is not None
            port = int(listener.stdout.readline())
            assert tcp_listening_ports(listener.pid) == [port]
            assert tcp_listening_ports(os.getpid()) == []
        finally:
            listener.kill()
