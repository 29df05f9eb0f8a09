"""The MongoDB code paths run against the embedded server when asked (FEEDBACKQL_STORAGE_PATHS):
CI runs the suite a second time that way, so the production path is exercised on every change."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient

from feedbackql_server.documents import RecordDoc
from feedbackql_server.settings import Settings
from feedbackql_server.storage import Storage
from feedbackql_server.storage.paths import FERRETDB, MONGODB, choose


async def _stale_write_lands(uri: str, database: str, paths: str) -> bool:
    """Whether a state write computed from an outdated read lands: compare-and-set refuses it."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    try:
        storage = Storage(client[database])
        await storage.prepare(paths=paths)
        record_id = ObjectId()
        await client[database]["records"].insert_one({"_id": record_id, "state_version": 3, "status": "pending"})
        stale: RecordDoc = {"_id": record_id, "state_version": 2}
        return await storage.queue.set_state(stale, {"status": "completed"})
    finally:
        await client.drop_database(database)
        await client.close()


async def test_compare_and_set_runs_on_the_embedded_server_when_mongodb_paths_are_forced(mongodb_uri: str) -> None:
    assert not await _stale_write_lands(mongodb_uri, f"fqlpaths_{ObjectId()}", "mongodb")


async def test_the_paths_are_chosen_once_and_asked_by_the_storage(mongodb_uri: str) -> None:
    """``storage/paths.py`` decides: FerretDB's paths on the embedded server (no compare-and-set,
    so the stale write lands, serialized by the process's locks instead), MongoDB's on MongoDB."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    try:
        chosen = await choose(client["admin"])
        on_ferretdb = "ferretdbVersion" in await client.admin.command("buildInfo")
    finally:
        await client.close()
    assert chosen is (FERRETDB if on_ferretdb else MONGODB)
    assert await _stale_write_lands(mongodb_uri, f"fqlpaths_{ObjectId()}", "auto") is on_ferretdb


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDBACKQL_STORAGE_PATHS", "mongodb")
    assert Settings().storage_paths == "mongodb"
    monkeypatch.setenv("FEEDBACKQL_STORAGE_PATHS", "sqlite")
    with pytest.raises(ValueError, match="storage_paths"):
        Settings()
