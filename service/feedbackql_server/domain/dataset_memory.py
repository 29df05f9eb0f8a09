"""What this process keeps in memory per dataset, all in one list: a deleted dataset's goes at once.

Deleting a dataset removes its documents (``datasets.delete_dataset``); what a process holds for
it lives on unless something drops it. Each holder below says how it forgets a dataset
(``forget``), and ``holders`` names every one, so a deletion reaches them all:

- the queue's pool of candidate records (``domain/queue.py`` ``QueuePools``);
- the vector spaces' copies, in memory and saved in the data folder (``domain/vector_index.py``);
- the words found common in a dataset's records (``storage/records.py`` ``CommonWords``);
- the bands of metadata numbers known to be stored (``storage/metadata_bands.py``);
- the live subscriptions, which end with ``NOT_FOUND`` (``events/broker.py``).

Each is bounded as well (the least recently used dropped first, or a subscription per socket).
The locks and group commits keyed by dataset (``storage/locks.py`` ``KeyedLocks``,
``storage/increments.py``) go by themselves once no write holds them; the read quotas and rate
limits are per API key. ``tests/test_structure.py`` fails when a class keeps a container keyed by
``ObjectId`` and is neither a holder nor listed there with its reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bson import ObjectId

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Services


class ForgetsDatasets(Protocol):
    async def forget(self, dataset_id: ObjectId) -> None:
        """The dataset is deleted: drop everything held for it."""


def holders(services: Services) -> tuple[ForgetsDatasets, ...]:
    return (services.queue_pools, services.vector_indexes, services.storage.records.common_words,
            services.storage.records.bands, services.events)


async def forget(services: Services, dataset_id: ObjectId) -> None:
    for holder in holders(services):
        await holder.forget(dataset_id)


async def sweep(services: Services) -> None:
    """At start-up: what was saved for datasets that no longer exist (deleted through another
    replica, or by a deletion a crash cut short)."""
    await services.vector_indexes.sweep(await services.storage.datasets.all_ids())
