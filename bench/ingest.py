"""Ingest 10,000 records through `addRecords` (batches of 1,000), and through the JSON-lines
upload (`POST /datasets/{id}/records`, batches of 10,000 lines), versus raw `insert_many` of
the same documents (every key the service stores, checked) into the same collection (so with
the same indexes), on the same server in one run. Target: ratio >= 0.5. Then the same batches
sent again through `addRecords` (all unchanged: a re-import, a resumed upload), against the first
load. Target: ratio >= 1.0. Rate limiting is off: one key sending 30,000 records back to back
spends its time budget on a loaded machine (RATE_LIMITED), which is not what is measured.

    .venv/bin/python -m bench.ingest            # FEEDBACKQL_BENCH_TOTAL=2000 for a quick check
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient

from bench.common import comparison_dataset, database_uri, gql, record, service, timed
from feedbackql_server.storage.content import pack
from feedbackql_server.storage.queue import QUEUE_DEFAULTS
from feedbackql_server.storage.search_words import words

TOTAL, BATCH, ROUNDS = int(os.environ.get("FEEDBACKQL_BENCH_TOTAL", 10_000)), 1_000, 3
ADD = """mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r)
  { created updated unchanged errors { index message } } }"""


def raw_document(i: int, dataset_id: ObjectId) -> dict[str, Any]:
    """What the service stores for ``record(i)`` (every key it writes, content packed), built
    without any validation; ``main`` checks the keys against a record the service stored."""
    source = record(i)
    ranking = source["suggestions"][0]["value"]["ranking"]
    now = datetime.now(UTC)
    return pack({"_id": ObjectId(), "dataset_id": dataset_id, "ext_key": source["externalId"],
                 "external_id": source["externalId"], "fields": source["fields"],
                 "metadata": source["metadata"], "search_tokens": words("\n".join(source["fields"].values())),
                 "status": "pending", "submitted_by": [], "draft_by": [], "discarded_by": [],
                 "response_versions": {}, **QUEUE_DEFAULTS, "content_hash": "0" * 64, "input_hash": "0" * 64,
                 "seq": i, "bucket": f"{dataset_id}:{i // 100}",
                 "created_at": now, "updated_at": now,
                 "suggestions": [{"question": "preference", "kind": "ranking", "value": ranking, "score": 0.7,
                                  "agent": "model-x", "plugin_version": "0.1.0"}]})


async def main() -> None:
    service_times, readd_times, upload_times, raw_times = [], [], [], []
    with database_uri() as uri:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
        async with service(uri, rate_limit_per_second=0) as (client, settings):
            raw = mongo[settings.database_name]["records"]
            for round_ in range(ROUNDS):
                dataset_id = await comparison_dataset(client, f"bench-{round_}")
                batches = [[record(i) for i in range(s, s + BATCH)] for s in range(0, TOTAL, BATCH)]
                raw_dataset = ObjectId()
                documents = [[raw_document(i, raw_dataset) for i in range(s, s + BATCH)]
                             for s in range(0, TOTAL, BATCH)]

                async def through_service(dataset_id: str = dataset_id,
                                          batches: list[Any] = batches) -> None:
                    for batch in batches:
                        result = (await gql(client, ADD, {"id": dataset_id, "r": batch}))["addRecords"]
                        assert result["created"] == len(batch), result

                async def readd(dataset_id: str = dataset_id, batches: list[Any] = batches) -> None:
                    for batch in batches:
                        result = (await gql(client, ADD, {"id": dataset_id, "r": batch}))["addRecords"]
                        assert result["unchanged"] == len(batch), result

                async def raw_insert(documents: list[Any] = documents) -> None:
                    for docs in documents:
                        await raw.insert_many(docs, ordered=False)

                upload_id = await comparison_dataset(client, f"bench-upload-{round_}")
                body = b"\n".join(json.dumps(record(i)).encode() for i in range(TOTAL))

                async def through_upload(dataset_id: str = upload_id, body: bytes = body) -> None:
                    response = await client.post(f"/datasets/{dataset_id}/records", content=body,
                                                 headers={"Content-Type": "application/x-ndjson"})
                    assert response.json()["created"] == TOTAL, response.text

                service_times.append(await timed(through_service))
                readd_times.append(await timed(readd))
                upload_times.append(await timed(through_upload))
                raw_times.append(await timed(raw_insert))
                stored = await raw.find_one({"dataset_id": ObjectId(upload_id)})
                assert stored is not None
                assert set(stored) == set(documents[0][0]), \
                    f"the raw documents differ from the stored ones: {set(stored) ^ set(documents[0][0])}"
        await mongo.close()
    service_s, upload_s, raw_s = min(service_times), min(upload_times), min(raw_times)
    readd_s = min(readd_times)
    print(f"addRecords : {TOTAL / service_s:8.0f} records/s (best of {ROUNDS}: {service_s:.2f} s)")
    print(f"re-add of unchanged records: {TOTAL / readd_s:8.0f} records/s (best of {ROUNDS}: {readd_s:.2f} s); "
          f"ratio re-add / first load: {service_s / readd_s:.2f}  (target >= 1.0)")
    print(f"upload     : {TOTAL / upload_s:8.0f} records/s (best of {ROUNDS}: {upload_s:.2f} s)")
    print(f"insert_many: {TOTAL / raw_s:8.0f} records/s (best of {ROUNDS}: {raw_s:.2f} s)")
    print(f"ratio addRecords / raw: {raw_s / service_s:.2f}; upload / raw: {raw_s / upload_s:.2f}  (target >= 0.5)")


if __name__ == "__main__":
    asyncio.run(main())
