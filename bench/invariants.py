"""The invariant suite (``tests/test_invariants.py``) at size: random concurrent labelers and
admin actions on a big dataset, then every invariant checked against the raw documents.

Prints the seed, the operations run and their rate, how long a change of ``minSubmitted`` took
on the whole dataset afterwards (to 4, then to 1: every answered record changes), how long the
check took, and every problem found (exit status 1 if any).

    .venv-test/bin/python -m bench.invariants [RECORDS] [LABELERS] [SECONDS] [SEED]   (default 100000 50 120)
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

from bench.common import KEY, database_uri, service
from tests import interleavings as il
from tests import workload
from tests.conftest import GraphQLClient


async def main(records: int, labelers: int, seconds: float, seed: int) -> int:
    run = workload.Run(seed=seed, records=records, labelers=labelers, seconds=seconds)
    with database_uri() as uri:
        async with service(uri, rate_limit_per_second=0) as (http, settings):
            gql = GraphQLClient(http, KEY)
            started = time.monotonic()
            users, workspace = await workload.prepare(run, gql)
            print(f"seed {seed}: {records} records and {labelers} labelers ready in {time.monotonic() - started:.1f} s")
            started = time.monotonic()
            await workload.execute(run, gql, users, workspace)
            elapsed = time.monotonic() - started
            print(f"{run.operations} operations in {elapsed:.1f} s ({run.operations / elapsed:.1f}/s), "
                  f"{len(run.last)} answers, errors {dict(run.outcomes.codes)}")
            for minimum in (4, 1):
                started = time.monotonic()
                await gql(il.UPDATE, {"id": run.datasets[0], "input": {"distribution": {"minSubmitted": minimum}}})
                answered = time.monotonic() - started
                await workload.quiet(settings)
                print(f"minSubmitted -> {minimum} on {records} records, nobody labelling: answered in "
                      f"{answered:.1f} s, every status in step after {time.monotonic() - started:.1f} s")
            started = time.monotonic()
            problems = await workload.check(run, settings)
            print(f"checked in {time.monotonic() - started:.1f} s: {len(problems)} problem(s)")
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    arguments = sys.argv[1:]
    sizes = [int(a) for a in arguments[:2]] + [100_000, 50][len(arguments[:2]):]
    duration = float(arguments[2]) if len(arguments) > 2 else 120.0
    chosen = int(arguments[3]) if len(arguments) > 3 else random.randrange(1 << 30)
    sys.exit(asyncio.run(main(sizes[0], sizes[1], duration, chosen)))
