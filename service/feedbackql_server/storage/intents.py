"""Writes in progress: what a crash could leave half done, so start-up can finish it.

Answering writes two documents (the response, then its record's state) and neither MongoDB
without transactions nor FerretDB can write both at once. An intent is written before the
pair and removed after it; whatever intents a start-up finds name the records to bring back
in step with their responses. The collection holds only the writes of this moment.
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

    async def end(self, intent_id: ObjectId) -> None:
        await self.collection.delete_one({"_id": intent_id})

    async def left_over(self) -> list[Doc]:
        return await self.collection.find({}).to_list()
