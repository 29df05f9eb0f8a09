"""Reading records' search words again when the way words are read changes
(``storage/search_words.WORDS_VERSION``): once, at start-up, from each record's stored fields
through their field kinds, as ``records.build_record`` indexes a new record. Only records whose
words differ are written; until it has run, a search may miss an accented or pointed word."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from feedbackql_server.documents import RecordDoc
from feedbackql_server.domain.config import DatasetConfig
from feedbackql_server.domain.session import Services
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.storage.search_words import WORDS_VERSION, words

log = logging.getLogger("feedbackql_server")


async def reindex_search_words(services: Services) -> int:
    """Bring every record's words to ``WORDS_VERSION``; returns how many records changed."""
    storage, registry = services.storage, services.registry
    if await storage.records.words_version() >= WORDS_VERSION:
        return 0
    changed = 0
    for dataset_id in await storage.datasets.all_ids():
        dataset = await storage.datasets.get(dataset_id)
        if dataset is None:
            continue
        config = DatasetConfig.of(dataset, registry)
        async for records in storage.records.stream(dataset_id, dataset.get("next_seq", 0), with_words=True):
            for record in records:
                found = _words_of(registry, config, record)
                if found != record.get("search_tokens") and await storage.records.set_words(
                        record["_id"], record.get("content_hash"), found):
                    changed += 1
    await storage.records.set_words_version(WORDS_VERSION)
    if changed:
        log.info("read the search words of %d record(s) again (search words version %d)", changed, WORDS_VERSION)
    return changed


def _words_of(registry: KindRegistry, config: DatasetConfig, record: RecordDoc) -> list[str]:
    """The record's words read from its fields; where a field's kind is not installed now or
    its plugin fails, the stored words folded again (all that is known of that text)."""
    stored: list[str] = list(record.get("search_tokens") or [])
    if config.field_problems:
        return words(" ".join(stored))
    try:
        return words(searchable_text(registry, config, record.get("fields") or {}))
    except Exception:  # a plugin's own code: keep what was indexed rather than stop start-up
        log.exception("record %s: its fields could not be read for search; its words are folded as stored",
                      record.get("_id"))
        return words(" ".join(stored))


def searchable_text(registry: KindRegistry, config: DatasetConfig, fields: Mapping[str, Any]) -> str:
    """The text a search looks through in stored field values, as ``build_record`` joins it."""
    texts = []
    for name, (definition, _settings) in config.fields.items():
        value = fields.get(name)
        kind = registry.field_kind(definition["kind"])
        if value is None or kind is None:
            continue
        texts.append(kind.searchable_text(kind.value_adapter.validate_python(value)))
    return "\n".join(texts)
