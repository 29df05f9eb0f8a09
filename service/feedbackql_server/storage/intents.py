"""Writes in progress: what a crash could leave half done, so start-up can finish it.

Answering writes two documents (the response, then its record's state) and neither MongoDB
without transactions nor FerretDB can write both at once; then the dataset's counters move.
Adding and deleting records likewise write the records, then the counters. An intent is
written before such writes and removed after them; whatever intents a start-up finds name the
records to bring back in step with their responses (``record_id``) and the datasets whose
counters to recount (``dataset_id``). The collection holds only the writes of this moment.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection

Doc = dict[str, Any]


class IntentRepo:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def begin(self, record_id: ObjectId) -> ObjectId:
        intent_id = ObjectId()
        await self.collection.insert_one({"_id": intent_id, "record_id": record_id})
        return intent_id

    async def begin_counting(self, dataset_id: ObjectId) -> ObjectId:
        """Before writes that move the dataset's counters along with its records."""
        intent_id = ObjectId()
        await self.collection.insert_one({"_id": intent_id, "dataset_id": dataset_id})
        return intent_id

    async def end(self, intent_id: ObjectId) -> None:
        await self.collection.delete_one({"_id": intent_id})

    async def left_over(self) -> list[Doc]:
        return await self.collection.find({}).to_list()
