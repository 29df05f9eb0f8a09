"""Log files of the embedded database (database/logfiles.py): a child's output goes through its
scrubber into files of mode 0600 that are rotated at a size bound, whatever the umask."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from feedbackql_server.database.logfiles import BACKUPS, copy_output

LINES = 400


def test_a_chatty_child_fills_a_bounded_set_of_private_files(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    old_umask = os.umask(0o022)  # what a shell usually has: files would be 0644
    try:
        child = subprocess.Popen([sys.executable, "-c", f"for n in range({LINES}): print('line', n, 'secret-' + str(n))"],
                                 stdout=subprocess.PIPE)
        assert child.stdout is not None
        copier = copy_output(child.stdout, log, "child", lambda line: line.replace("secret", "***"), max_bytes=1000)
        assert child.wait(30) == 0
        copier.join(30)
    finally:
        os.umask(old_umask)
    files = sorted(tmp_path.iterdir())
    assert files == [log, *(log.with_name(f"child.log.{n}") for n in range(1, BACKUPS + 1))]
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
        assert path.stat().st_size <= 1000
        assert "secret" not in path.read_text()
    assert log.read_text().splitlines()[-1] == f"line {LINES - 1} ***-{LINES - 1}"
