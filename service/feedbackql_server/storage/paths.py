"""Which code paths suit the database server: the one place that decides every difference
between MongoDB and the embedded FerretDB 1.24.

The storage has one shape on both servers — buckets, packed content, per-labeler tallies,
group-commit increments, in-process locks, intents, bounded reads (``docs/architecture.md``,
each with its reason in its own module) — and is correct on both. What differs is decided here,
once at start-up (``Storage.prepare``), and the modules ask ``storage.paths`` instead of testing
the server or the settings themselves (``tests/test_structure.py``).

Not a path: whether the server has change streams (FerretDB and a standalone MongoDB do not),
which the event broker finds out by trying (``events/change_stream.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pymongo.asynchronous.database import AsyncDatabase

Forced = Literal["auto", "mongodb"]


@dataclass(frozen=True)
class StoragePaths:
    server: Literal["mongodb", "ferretdb"]
    """Whose paths these are (not necessarily the server's: see ``choose``)."""
    compare_and_set: bool
    """A record's state is written only if its ``state_version`` is still the one read
    (``storage/queue.py``), so that writers in several replicas cannot overwrite each other.
    Off on FerretDB: a filter on more than ``_id`` reads the whole collection there (12 ms
    against 100 ms per update at 3,000 records), and its updates are unisolated
    read-modify-writes that compare-and-set cannot make atomic; the record locks of the one
    process serving the embedded database (``storage/locks.py``) serialize them instead."""
    sorts_by_index: bool
    """An index serves a sort (``UPDATED_AT`` pages). FerretDB sorts in memory after reading
    every document selected, so ``domain/listing.py`` allows that sort on small datasets only."""
    every_index: bool
    """Every index of ``storage/indexes.py``; on FerretDB only the unique ones: its indexes
    serve none of its queries (it looks rows up by ``@>``, which the expression indexes of
    ``database/equality_indexes.py`` serve), so the others would only cost every write."""
    ranges_by_index: bool
    """An index serves a range (``seq > n``). FerretDB evaluates a range after reading every
    document the query's equalities select, so a few numbers past a known one are looked up
    one by one there instead (``storage/vectors.py`` ``since``)."""


MONGODB = StoragePaths("mongodb", compare_and_set=True, sorts_by_index=True, every_index=True, ranges_by_index=True)
FERRETDB = StoragePaths("ferretdb", compare_and_set=False, sorts_by_index=False, every_index=False,
                        ranges_by_index=False)


async def choose(db: AsyncDatabase[dict[str, Any]], forced: Forced = "auto") -> StoragePaths:
    """MongoDB's paths unless the server is FerretDB (``buildInfo`` names its version).
    ``forced="mongodb"`` takes MongoDB's paths whatever the server: CI runs the suite that way
    against the embedded FerretDB (``FEEDBACKQL_STORAGE_PATHS``; slower there, and correct), so
    the production paths run on every change."""
    if forced == "mongodb":
        return MONGODB
    build = await db.client.admin.command("buildInfo")
    return FERRETDB if "ferretdbVersion" in build else MONGODB
