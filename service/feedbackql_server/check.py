"""``feedbackql check``: the invariants of a database verified (and repaired) from the command line.

The checks and repairs are ``domain/invariants.py``, the code start-up runs after a crash; this
connects, runs them and prints one line per finding. Repairs go record by record under
compare-and-set on MongoDB (``storage/paths.py``), so a live MongoDB may be checked while replicas serve. The embedded
FerretDB is serialized by the serving process's locks, so check it while the service is stopped
(``--data-dir`` starts the database for the check alone).
"""

from __future__ import annotations

import asyncio
from typing import Any, TextIO

from pymongo import AsyncMongoClient

from feedbackql_server.domain import invariants
from feedbackql_server.storage import Storage


async def check_database(uri: str, database_name: str, *, repair: bool) -> invariants.Report:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    try:
        storage = Storage(client[database_name])
        await storage.prepare()
        report = await invariants.check(storage, repair=repair)
        await storage.close()
    finally:
        await client.close()
    return report


def print_report(report: invariants.Report, out: TextIO) -> int:
    """One line per finding and a summary; the exit status (1: something wrong stays wrong)."""
    for finding in report.findings:
        outcome = "repaired" if finding.repaired else "NOT repaired"
        print(f"dataset {finding.dataset_id}: {finding.what} [{outcome}]", file=out)
    left = len(report.unrepaired)
    print(f"checked {report.datasets} dataset(s), {report.records} record(s): "
          f"{len(report.findings)} problem(s), {len(report.findings) - left} repaired, {left} left", file=out)
    return 1 if left else 0


def run(uri: str, database_name: str, *, repair: bool, out: TextIO) -> int:
    return print_report(asyncio.run(check_database(uri, database_name, repair=repair)), out)
