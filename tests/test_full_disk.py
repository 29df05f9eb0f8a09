"""Issue 20: a full disk under labelers. `feedbackql serve` runs with its data folder (embedded
PostgreSQL and FerretDB) on a small tmpfs; 20 labelers submit over HTTP; the disk is filled with
``fallocate``, then freed. While it is full every failure is ``UNAVAILABLE`` (it was a masked
``INTERNAL``), or ``TIMEOUT``;
afterwards ``/healthz`` is 200 again without a restart, the labelers finish, and every
acknowledged answer is present exactly once, with records and counters in step.

Needs root (to mount the tmpfs); skipped otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pymongo import MongoClient

from tests.served import service
from tests.test_faults import MIN_SUBMITTED, RECORDS, Api, Labelers, _dataset, _until, check_in_step

pytestmark = [pytest.mark.heavy, pytest.mark.faults]

DISK_MB = 400
FULL_SECONDS = 8.0
RECOVERY_SECONDS = 60.0


@contextlib.contextmanager
def small_disk(folder: Path) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m,mode=0755", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path) -> Path:
    """A file taking every free byte of ``disk``."""
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    subprocess.run(["fallocate", "-l", str(free), str(filler)], check=False)
    with contextlib.suppress(OSError), filler.open("ab") as more:  # whatever fallocate left
        while True:
            more.write(b"\0" * 65536)
            more.flush()
    return filler


async def healthz(url: str) -> int:
    async with httpx.AsyncClient(timeout=5) as http:
        with contextlib.suppress(httpx.TransportError):
            return (await http.get(f"{url}/healthz")).status_code
    return 0


async def test_labelers_through_a_full_disk(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk, service(disk / "service", request_timeout_seconds=60) as served:
        api = Api(served.url)
        dataset_id, keys, users = await _dataset(api, RECORDS)
        labelers = Labelers(api, dataset_id)
        work = asyncio.gather(*(labelers.run(key, users[key]) for key in keys))
        await _until(lambda: len(labelers.acknowledged) >= 10)
        filler = await asyncio.to_thread(fill, disk)
        before = len(labelers.acknowledged)
        await asyncio.sleep(FULL_SECONDS)
        while_full = len(api.failures)
        filler.unlink()
        freed = time.monotonic()
        while await healthz(served.url) != 200:
            assert time.monotonic() - freed < RECOVERY_SECONDS, "/healthz did not recover by itself"
            await asyncio.sleep(0.5)
        await _until(lambda: len(labelers.acknowledged) >= before + 10, RECOVERY_SECONDS)
        await asyncio.wait_for(work, timeout=300)
        uri = served.env.get("MONGODB_URI") or _embedded_uri(disk / "service")
        database = served.env["FEEDBACKQL_DATABASE_NAME"]
        # Intents the full disk left open are closed once it takes writes again (not at a restart).
        await _until(lambda: _open_intents(uri, database) == 0, RECOVERY_SECONDS)
        counts = check_in_step(uri, served.env["FEEDBACKQL_DATABASE_NAME"], dataset_id, labelers.acknowledged)
    codes = {failure.code for failure in api.failures}
    assert while_full > 0, "filling the disk was not noticed"
    assert codes <= {"UNAVAILABLE", "TIMEOUT"}, codes  # a full disk is a wait, not an INTERNAL error
    assert counts["responses"] == RECORDS * MIN_SUBMITTED
    print(f"full disk: {counts}, failures while full {while_full}, codes {sorted(codes)}")


def _open_intents(uri: str, database: str) -> int:
    with MongoClient(uri) as client:
        return client[database].intents.count_documents({})


def _embedded_uri(folder: Path) -> str:
    from feedbackql_server.database.ferretdb import socket_uri
    from feedbackql_server.database.private import socket_dir

    return socket_uri(socket_dir(folder / "data" / "run" / "ferretdb") / "ferretdb.sock")
