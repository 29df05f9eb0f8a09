"""Training-ready rows in TRL's dataset formats, each task with its rules stated.

* ``sft``: one row per submitted answer to a text question (or one per record with a
  unification strategy): ``{prompt, completion}``, or ``{messages}`` when the prompt field
  holds a conversation (the answer becomes the final assistant turn).
* ``reward_modeling``: from the unified ranking of each record (``mean_rank`` by default),
  one ``{prompt, chosen, rejected}`` row for every pair of options in a strict order. Options
  with equal unified ranks produce no pair and are counted as ties. An option's text is the
  record field named like the option's value, else the value itself.
* ``dpo``: the same triples (TRL's ``prompt``/``chosen``/``rejected``); with
  ``best_vs_worst`` only the best option against the worst, when strictly ordered.
  A conversation prompt gives TRL's conversational form.
* ``rating_selection``: records whose unified rating (``mean`` by default) is at least
  ``threshold``, or the ``top_k`` best (ties at the cut go to the earlier record).
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from feedbackql_server.domain.unification import Question, answers_of, check_strategy, question_of
from feedbackql_server.errors import Invalid
from feedbackql_server.export.rows import record_pages
from feedbackql_server.kinds.base import Agreement
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.storage import Storage

Doc = dict[str, Any]
TASKS = ("sft", "reward_modeling", "dpo", "rating_selection")


@dataclass(frozen=True)
class TrainingOptions:
    field: str | None = None
    question: str | None = None
    strategy: str | None = None
    best_vs_worst: bool = False
    threshold: float | None = None
    top_k: int | None = None


@dataclass
class TrainingExport:
    task: str
    question: Question
    columns: list[str]
    rules: dict[str, Any]
    stats: dict[str, int] = field(default_factory=lambda: {"rows": 0, "ties": 0, "records": 0})


def _is_conversation(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(m, dict) and "role" in m and "content" in m
                                           for m in value)


def _prompt_field(dataset: Doc, name: str | None) -> str:
    names = [f["name"] for f in dataset["fields"]]
    chosen = name or (names[0] if names else None)
    if chosen not in names:
        raise Invalid(f"the dataset has no field {chosen!r}", ["field"])
    return str(chosen)


def _question(registry: KindRegistry, dataset: Doc, name: str | None) -> Question:
    if name is None:
        raise Invalid("name the question to export", ["question"])
    return question_of(registry, dataset, name, ["question"])


def plan(registry: KindRegistry, dataset: Doc, task: str, options: TrainingOptions) -> TrainingExport:
    """Check the options and describe the export; ``stream`` then produces its rows."""
    if task not in TASKS:
        raise Invalid(f"task is one of {list(TASKS)}", ["task"])
    question = _question(registry, dataset, options.question)
    if task == "sft":
        strategy = check_strategy(question, options.strategy, ["strategy"]) if options.strategy else None
        prompt = _prompt_field(dataset, options.field)
        rules = {"task": task, "prompt_field": prompt, "question": question.name,
                 "rows": "one per record (unified: " + strategy + ")" if strategy
                 else "one per submitted answer", "format": "{prompt, completion} or {messages}"}
        return TrainingExport(task, question, ["prompt", "completion", "messages"], rules)
    if task == "rating_selection":
        if question.kind.agreement not in (Agreement.INTERVAL, Agreement.ORDINAL):
            raise Invalid(f"rating_selection needs a question with numeric answers, not {question.kind.name}",
                          ["question"])
        strategy = check_strategy(question, options.strategy, ["strategy"])
        if (options.threshold is None) == (options.top_k is None):
            raise Invalid("give either threshold or top_k", ["threshold"])
        if options.top_k is not None and not 1 <= options.top_k <= 100_000:
            raise Invalid("top_k is between 1 and 100000", ["top_k"])
        rules = {"task": task, "question": question.name, "strategy": strategy,
                 "selection": f"rating >= {options.threshold}" if options.threshold is not None
                 else f"top {options.top_k} (ties go to the earlier record)"}
        return TrainingExport(task, question, ["id", "external_id", "fields", "rating"], rules)
    if question.kind.agreement is not Agreement.RANKING:
        raise Invalid(f"{task} needs a question whose answers are rankings, not {question.kind.name}",
                      ["question"])
    strategy = check_strategy(question, options.strategy, ["strategy"])
    prompt = _prompt_field(dataset, options.field)
    pairs = "best vs worst only" if task == "dpo" and options.best_vs_worst else "every strictly ordered pair"
    rules = {"task": task, "prompt_field": prompt, "question": question.name, "strategy": strategy,
             "pairs": pairs, "ties": "options with equal unified rank give no pair; counted as ties",
             "option_text": "the record field named like the option value, else the value"}
    return TrainingExport(task, question, ["prompt", "chosen", "rejected"], rules)


async def stream(storage: Storage, dataset: Doc, export: TrainingExport,
                 options: TrainingOptions) -> AsyncIterator[Doc]:
    question = export.question
    if export.task == "rating_selection":
        rows = _rating_rows(storage, dataset, question, export, options)
    else:
        rows = _paired_rows(storage, dataset, question, export, options)
    async for row in rows:
        export.stats["rows"] += 1
        yield row


async def _answered_pages(storage: Storage, dataset: Doc, question: Question,
                          export: TrainingExport) -> AsyncIterator[list[tuple[Doc, list[Any]]]]:
    async for page in record_pages(storage, dataset):
        responses = await storage.responses.in_buckets(page, submitted_only=True)
        answers = answers_of(responses, question.name)
        export.stats["records"] += len(page)
        yield [(record, answers.get(record["_id"], [])) for record in page]


async def _paired_rows(storage: Storage, dataset: Doc, question: Question, export: TrainingExport,
                       options: TrainingOptions) -> AsyncIterator[Doc]:
    prompt_field = export.rules["prompt_field"]
    async for page in _answered_pages(storage, dataset, question, export):
        for record, answers in page:
            if not answers:
                continue
            prompt = record["fields"].get(prompt_field)
            if export.task == "sft":
                for row in _sft_rows(question, prompt, answers, options.strategy):
                    yield row
                continue
            unified = question.unify(answers, export.rules["strategy"]).value or []
            for chosen, rejected in _pairs(unified, options.best_vs_worst and export.task == "dpo", export):
                yield _preference(prompt, _option_text(record, chosen), _option_text(record, rejected))


def _sft_rows(question: Question, prompt: Any, answers: list[Any], strategy: str | None) -> list[Doc]:
    completions = [question.unify(answers, strategy).value] if strategy else [question.read(a) for a in answers]
    rows: list[Doc] = []
    for completion in completions:
        if not isinstance(completion, str):
            continue
        if _is_conversation(prompt):
            rows.append({"messages": [*prompt, {"role": "assistant", "content": completion}]})
        else:
            rows.append({"prompt": prompt, "completion": completion})
    return rows


def _pairs(ranking: list[Doc], best_vs_worst: bool, export: TrainingExport) -> list[tuple[str, str]]:
    ordered = sorted(ranking, key=lambda r: r["rank"])
    if best_vs_worst:
        if len(ordered) >= 2 and ordered[0]["rank"] < ordered[-1]["rank"]:
            return [(ordered[0]["value"], ordered[-1]["value"])]
        export.stats["ties"] += 1 if len(ordered) >= 2 else 0
        return []
    pairs = []
    for i, better in enumerate(ordered):
        for worse in ordered[i + 1:]:
            if better["rank"] < worse["rank"]:
                pairs.append((better["value"], worse["value"]))
            else:
                export.stats["ties"] += 1
    return pairs


def _option_text(record: Doc, option: str) -> Any:
    return record["fields"].get(option, option)


def _preference(prompt: Any, chosen: Any, rejected: Any) -> Doc:
    if _is_conversation(prompt):
        conversational: Doc = {"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}],
                               "rejected": [{"role": "assistant", "content": rejected}]}
        return conversational
    plain: Doc = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
    return plain


async def _rating_rows(storage: Storage, dataset: Doc, question: Question, export: TrainingExport,
                       options: TrainingOptions) -> AsyncIterator[Doc]:
    strategy = export.rules["strategy"]
    best: list[tuple[float, int, Doc]] = []  # a min-heap of the top k: (rating, -position, row)
    position = 0
    async for page in _answered_pages(storage, dataset, question, export):
        for record, answers in page:
            rating = question.unify(answers, strategy).value
            if not isinstance(rating, int | float):
                continue
            row = {"id": str(record["_id"]), "external_id": record.get("external_id"),
                   "fields": record["fields"], "rating": rating}
            position += 1
            if options.threshold is not None:
                if rating >= options.threshold:
                    yield row
            elif options.top_k is not None:
                item = (float(rating), -position, row)
                if len(best) < options.top_k:
                    heapq.heappush(best, item)
                elif item > best[0]:
                    heapq.heapreplace(best, item)
    for _rating, _position, row in sorted(best, reverse=True):
        yield row
