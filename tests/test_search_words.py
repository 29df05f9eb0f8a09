"""Text search across the ways one word can be written: precomposed or decomposed accents,
vowel points, compatibility forms; and records indexed before words were folded, read again
at start-up."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient

from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from feedbackql_server.storage.buckets import BUCKET_SIZE
from feedbackql_server.storage.search_words import WORDS_VERSION
from tests import helpers as h
from tests.conftest import GraphQLClient, serve
from tests.test_record_sort import RECORD_FINDS

SEARCH = """query($id: ID!, $text: String!) {
  records(datasetId: $id, first: 50, filter: {text: $text}) { edges { node { externalId } } } }"""

PRECOMPOSED = unicodedata.normalize("NFC", "Zoë")
DECOMPOSED = unicodedata.normalize("NFD", "Zoë")
POINTED_HEBREW = "שָׁלוֹם"
PLAIN_HEBREW = "שלום"
HINDI = "हिंदी"
RECORDS = {
    "precomposed": f"Ask {PRECOMPOSED} about the résumé",
    "decomposed": f"Ask {DECOMPOSED} about the plan",
    "pointed": f"{POINTED_HEBREW} עולם",
    "plain": f"{PLAIN_HEBREW} לכולם",
    "hindi": f"{HINDI} भाषा",
    "ligature": "the \ufb01le is ready",  # "ﬁle": one compatibility character for "fi"
}


async def found(gql: GraphQLClient, dataset_id: str, text: str) -> set[str]:
    edges = (await gql(SEARCH, {"id": dataset_id, "text": text}))["records"]["edges"]
    return {edge["node"]["externalId"] for edge in edges}


async def add(gql: GraphQLClient) -> str:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"externalId": name, "fields": {"prompt": text}}
                                          for name, text in RECORDS.items()])
    return dataset_id


async def expect_every_spelling_found(gql: GraphQLClient, dataset_id: str) -> None:
    assert await found(gql, dataset_id, PRECOMPOSED) == {"precomposed", "decomposed"}
    assert await found(gql, dataset_id, DECOMPOSED) == {"precomposed", "decomposed"}
    assert await found(gql, dataset_id, "zoe") == {"precomposed", "decomposed"}
    assert await found(gql, dataset_id, "RESUME") == {"precomposed"}
    assert await found(gql, dataset_id, PLAIN_HEBREW) == {"pointed", "plain"}
    assert await found(gql, dataset_id, POINTED_HEBREW) == {"pointed", "plain"}
    assert await found(gql, dataset_id, HINDI) == {"hindi"}  # its vowel signs stay inside the word
    assert await found(gql, dataset_id, "file") == {"ligature"}


async def test_every_spelling_of_a_word_finds_it(gql: GraphQLClient) -> None:
    await expect_every_spelling_found(gql, await add(gql))


def words_before_folding(text: str) -> list[str]:
    """How version 1 read words: ``\\w+`` after case folding alone."""
    return list(dict.fromkeys(re.findall(r"\w+", text.casefold())))


async def test_records_indexed_before_folding_are_read_again_at_start(
    settings: Settings, builtin_registry: KindRegistry
) -> None:
    async with serve(settings, builtin_registry) as gql:
        dataset_id = await add(gql)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    db = client[settings.database_name]
    assert (await db["meta"].find_one({"_id": "search_words"}) or {}).get("version") == WORDS_VERSION
    # Put the records back as version 1 indexed them (a decomposed accent split its word, vowel
    # points split theirs), and the database back to that version.
    for name, text in RECORDS.items():
        await db["records"].update_one({"dataset_id": ObjectId(dataset_id), "external_id": name},
                                       {"$set": {"search_tokens": words_before_folding(text)}})
    await db["meta"].delete_one({"_id": "search_words"})
    async with serve(settings, builtin_registry) as gql:
        await expect_every_spelling_found(gql, dataset_id)
    assert (await db["meta"].find_one({"_id": "search_words"}) or {}).get("version") == WORDS_VERSION
    await client.close()


async def test_a_common_word_is_told_by_a_sample_of_buckets_not_by_reading_every_record(
        gql: GraphQLClient) -> None:
    """A word in more than 200 records (``MAX_MATCHES``) is not narrowed by index; finding that
    out by a lookup read every record with the word on FerretDB (2.8 s for a word in all of
    100,000 records). A few buckets spread over the dataset tell it now; a word gathered in one
    stretch of records is still looked up, and counted."""
    dataset_id = await h.sft_dataset(gql)
    total = 6 * BUCKET_SIZE
    for start in range(0, total, 200):
        await h.add_records(gql, dataset_id, [
            {"externalId": f"r{i:04}", "fields": {"prompt": f"common {'gathered' if i < 150 else 'other'} p{i}"}}
            for i in range(start, start + 200)])
    RECORD_FINDS.filters.clear()
    RECORD_FINDS.recording = True
    try:
        page = await gql(h.RECORDS, {"id": dataset_id, "first": 3, "filter": {"text": "common"}})
    finally:
        RECORD_FINDS.recording = False
    assert [edge["node"]["externalId"] for edge in page["records"]["edges"]] == ["r0000", "r0001", "r0002"]
    looked_up = [where for where in RECORD_FINDS.filters if "search_tokens" in where and "bucket" not in where]
    assert looked_up == [], looked_up
    counted = await gql(h.RECORDS, {"id": dataset_id, "first": 1, "filter": {"text": "gathered"}})
    assert counted["records"]["totalCount"] == 150
    assert counted["records"]["edges"][0]["node"]["externalId"] == "r0000"
