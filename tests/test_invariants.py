"""Invariants under any interleaving (Jepsen-style): a bounded run of random concurrent
labelers and admin actions (``tests/workload.py``), then every invariant checked against the
raw documents. The seed is printed on failure; ``FEEDBACKQL_INVARIANTS_SEED`` runs one again
and ``FEEDBACKQL_INVARIANTS_SECONDS`` runs longer (``bench/invariants.py`` runs it big)."""

from __future__ import annotations

import os
import random

from feedbackql_server.settings import Settings
from tests import workload
from tests.conftest import GraphQLClient

SECONDS = float(os.environ.get("FEEDBACKQL_INVARIANTS_SECONDS", "20"))
RECORDS = 60
LABELERS = 8


async def test_random_concurrent_operations_keep_every_invariant(gql: GraphQLClient, settings: Settings) -> None:
    seed = int(os.environ.get("FEEDBACKQL_INVARIANTS_SEED", random.randrange(1 << 30)))
    run = workload.Run(seed=seed, records=RECORDS, labelers=LABELERS, seconds=SECONDS)
    users, workspace = await workload.prepare(run, gql)
    await workload.execute(run, gql, users, workspace)
    problems = await workload.check(run, settings)
    print(f"seed {seed}: {run.operations} operations, {len(run.last)} answers, errors {dict(run.outcomes.codes)}")
    assert run.operations > 100, f"seed {seed}: only {run.operations} operations ran"
    assert problems == [], f"seed {seed} ({run.operations} operations): {problems}"
