"""Invariants under any interleaving (Jepsen-style): a bounded run of random concurrent
labelers and admin actions (``tests/workload.py``), then every invariant checked against the
raw documents. The seed is printed on failure; ``FEEDBACKQL_INVARIANTS_SEED`` runs one again
and ``FEEDBACKQL_INVARIANTS_SECONDS`` runs longer (``bench/invariants.py`` runs it big)."""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

import httpx
import pytest

from feedbackql_server.settings import Settings
from tests import served, workload
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


@pytest.mark.heavy
@pytest.mark.faults
async def test_invariants_hold_through_a_kill_9_of_the_service(mongodb_uri: str, tmp_path: Path) -> None:
    """The same workload against ``feedbackql serve``, killed with SIGKILL half-way and started
    again: the writes it was doing are finished at start-up (their intents), and what a client
    was never answered may or may not have happened — everything else holds."""
    seed = int(os.environ.get("FEEDBACKQL_INVARIANTS_SEED", random.randrange(1 << 30)))
    run = workload.Run(seed=seed, records=RECORDS, labelers=LABELERS, seconds=SECONDS)
    with served.service(tmp_path / "service", mongodb_uri, request_timeout_seconds=60) as running:
        async with httpx.AsyncClient(base_url=running.url, timeout=60) as http:
            gql = GraphQLClient(http, served.KEY)
            users, workspace = await workload.prepare(run, gql)
            killing = asyncio.ensure_future(_kill_and_restart(running, SECONDS / 2))
            await workload.execute(run, gql, users, workspace)
            await killing
        settings = Settings(mongodb_uri=mongodb_uri, database_name=running.env["FEEDBACKQL_DATABASE_NAME"])
        problems = await workload.check(run, settings, frozenset({*workload.ALLOWED_CODES, "UNAVAILABLE"}))
    print(f"seed {seed}: {run.operations} operations, errors {dict(run.outcomes.codes)}")
    assert run.outcomes.codes["UNAVAILABLE"], "the kill went unnoticed"
    assert problems == [], f"seed {seed} ({run.operations} operations): {problems}"


async def _kill_and_restart(running: served.Service, after: float) -> None:
    await asyncio.sleep(after)
    running.kill()
    await asyncio.to_thread(running.start)
