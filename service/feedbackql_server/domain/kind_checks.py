"""A dataset's configuration as its kinds judge it: settings checked against the other fields
(``check_settings``), and the JSON Schema of a question's answers (``answer_schema``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedbackql_server.documents import KindItem
from feedbackql_server.domain.config import Path, read_item
from feedbackql_server.domain.plugin_failures import plugin_failed
from feedbackql_server.errors import Invalid, all_of, invalid_from_problems
from feedbackql_server.kinds.base import QuestionKind
from feedbackql_server.kinds.context import DatasetContext, FieldInfo
from feedbackql_server.kinds.registry import KindRegistry, RegisteredKind


def dataset_context(registry: KindRegistry, fields: Sequence[KindItem]) -> DatasetContext:
    """The dataset's fields as kinds see them when their settings are checked (fields whose
    kind cannot be read now are left out)."""
    infos: dict[str, FieldInfo] = {}
    for item in fields:
        entry = registry.fields.get(item["kind"])
        settings, problem = read_item(entry.kind if entry else None, item, entry.version if entry else None)
        if problem is None:
            infos[item["name"]] = FieldInfo(item["name"], item["kind"], settings, item.get("required", True))
    return DatasetContext(fields=infos)


def check_item(registry: KindRegistry, category: str, item: KindItem, context: DatasetContext,
               path: Path) -> Invalid | None:
    """What the item's kind finds wrong with its settings in this dataset (``check_settings``),
    or None. An item the kind cannot read back (``migrate_settings`` or ``parse_settings``
    raised) is refused as the plugin's failure, and one whose kind is not installed as
    unavailable: a dataset is never configured or published with a question no one can use."""
    entry = (registry.fields if category == "field" else registry.questions).get(item["kind"])
    settings, problem = read_item(entry.kind if entry else None, item, entry.version if entry else None)
    if problem is not None:
        if entry is None or problem.cause is None:
            raise problem.error([*path, "settings"])
        raise plugin_failed(f"reading the settings of {item['name']!r}", problem.cause, kind=item["kind"],
                            plugin=entry.plugin, version=entry.version, path=[*path, "settings"])
    assert entry is not None  # read_item reports a missing kind as a problem
    try:
        entry.kind.check_settings(settings, context)
    except ValueError as exc:
        return invalid_from_problems(exc, [*path, "settings", item["kind"]],
                                     question=item["name"] if category == "question" else None)
    except Exception as exc:  # the plugin's own code failed: name it, never an anonymous INTERNAL
        raise plugin_failed(f"checking the settings of {item['name']!r}", exc, kind=item["kind"],
                            plugin=entry.plugin, version=entry.version, path=[*path, "settings"]) from exc
    return None


def check_configuration(registry: KindRegistry, fields: Sequence[KindItem],
                        questions: Sequence[KindItem]) -> None:
    """Every field's and question's settings checked against the whole configuration by its
    kind; ``Invalid`` with every problem found."""
    context = dataset_context(registry, fields)
    errors = [error for category, items in (("field", fields), ("question", questions))
              for index, item in enumerate(items)
              if (error := check_item(registry, category, item, context, [f"{category}s", index])) is not None]
    if errors:
        raise all_of(errors)


def answer_schema(entry: RegisteredKind[QuestionKind] | None, item: KindItem) -> dict[str, Any] | None:
    """The JSON Schema of a question's answers from its kind, or None when the kind cannot
    read the question; the kind's generic value schema when its own code fails."""
    parsed, problem = read_item(entry.kind if entry else None, item, entry.version if entry else None)
    if entry is None or problem is not None:
        return None
    try:
        return entry.kind.answer_schema(parsed)
    except Exception as exc:  # the plugin's own code: a generic schema rather than a failed query
        plugin_failed(f"giving the answer schema of {item['name']!r}", exc, kind=item["kind"],
                      plugin=entry.plugin, version=entry.version)  # logged; the query goes on
        return entry.kind.value_schema()
