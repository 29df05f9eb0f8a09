"""Every index the service needs, declared in one place and ensured at start-up."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from feedbackql_server.storage.paths import StoragePaths

INDEXES: dict[str, list[IndexModel]] = {
    "users": [
        IndexModel([("username", ASCENDING)], unique=True, name="username_unique"),
        IndexModel([("api_key_hash", ASCENDING)], unique=True, name="api_key_unique"),
    ],
    "workspaces": [IndexModel([("name", ASCENDING)], unique=True, name="name_unique")],
    "datasets": [
        IndexModel(
            [("workspace_id", ASCENDING), ("name", ASCENDING)], unique=True, name="name_unique"
        )
    ],
    "records": [
        # ext_key is the external id when given, else the record's own id: always present,
        # so a plain unique index enforces "one record per external id" (no partial index).
        IndexModel(
            [("dataset_id", ASCENDING), ("ext_key", ASCENDING)], unique=True, name="ext_unique"
        ),
        IndexModel([("dataset_id", ASCENDING), ("status", ASCENDING)], name="by_status"),
        # Pages, the queue and exports read records a bucket at a time (storage/buckets.py).
        IndexModel([("bucket", ASCENDING), ("seq", ASCENDING)], name="by_bucket"),
        # The labeler queue: pending records of a dataset, closest to completion first.
        IndexModel([("dataset_id", ASCENDING), ("status", ASCENDING), ("submitted_count", DESCENDING),
                    ("_id", ASCENDING)], name="queue"),
        # Keyset paging: equality on the dataset, range and sort on _id / updated_at.
        IndexModel([("dataset_id", ASCENDING), ("_id", ASCENDING)], name="page_by_id"),
        IndexModel([("dataset_id", ASCENDING), ("updated_at", ASCENDING), ("_id", ASCENDING)],
                   name="page_by_updated"),
        # Text search: records by one of their words (storage/search_words.py).
        IndexModel([("dataset_id", ASCENDING), ("search_tokens", ASCENDING)], name="by_word"),
    ],
    "responses": [
        IndexModel(
            [("record_id", ASCENDING), ("user_id", ASCENDING)], unique=True, name="one_per_user"
        ),
        IndexModel([("dataset_id", ASCENDING), ("status", ASCENDING)], name="by_status"),
        # A page's responses are read a bucket at a time (storage/buckets.py).
        IndexModel([("bucket", ASCENDING)], name="by_bucket"),
        # "The records I answered": a labeler's responses in a dataset.
        IndexModel([("user_id", ASCENDING), ("dataset_id", ASCENDING)], name="by_user"),
    ],
    "user_tallies": [IndexModel([("dataset_id", ASCENDING)], name="by_dataset")],
    # The bands of a property's numbers, which a range filter is looked up by (metadata_bands.py).
    "metadata_bands": [IndexModel([("dataset_id", ASCENDING), ("name", ASCENDING)], name="by_property")],
    # One claim per caller and Idempotency-Key (storage/idempotency.py).
    "idempotency_keys": [
        IndexModel([("user_id", ASCENDING), ("key", ASCENDING)], unique=True, name="key_unique")
    ],
}


async def ensure_indexes(db: AsyncDatabase[dict[str, object]], paths: StoragePaths) -> None:
    """The indexes ``paths`` wants: every one, or only the unique ones on FerretDB
    (``StoragePaths.every_index`` says why)."""
    # One index per command: FerretDB 1.24 panics when a createIndexes command that names
    # several indexes meets them already there (every restart).
    for collection, models in INDEXES.items():
        for model in models:
            if not paths.every_index and not model.document.get("unique"):
                continue
            await db[collection].create_indexes([model])
