"""The `reward_modeling` and `dpo` training tasks: {prompt, chosen, rejected} from rankings.

From the unified ranking of each record (``mean_rank`` by default), one row for every pair of
options in a strict order. One tie rule, the one ``unifiedAnswers`` reports: a record whose
unified ranking is a tie (equal mean ranks, or a ``majority`` decided by submission order)
gives no pair at all and is counted in ``ties``. An option's text is the record field named
like the option's value, else the value. A conversation prompt gives TRL's conversational
form (``prompt`` a list of messages, ``chosen``/``rejected`` one assistant turn each; with
``implicit_prompt``, no prompt column and ``chosen``/``rejected`` the whole conversation); a
prompt that does not end with a user turn cannot, and the record is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from feedbackql_server.kinds import Agreement, Problem, QuestionKind, hookimpl
from feedbackql_server.kinds.columns import MESSAGES, TEXT, Column
from feedbackql_server.kinds.tasks import (
    Row,
    TaskRecord,
    TaskRequest,
    TrainingTask,
    Unsuitable,
    is_conversation,
    prompt_problem,
)


class RewardModelingTask(TrainingTask):
    name = "reward_modeling"
    description = "{prompt, chosen, rejected} for every strictly ordered pair of the unified ranking."
    columns = ("prompt", "chosen", "rejected")
    best_vs_worst = False

    @classmethod
    def accepts(cls, kind: QuestionKind) -> bool:
        return kind.agreement is Agreement.RANKING

    def __init__(self, request: TaskRequest) -> None:
        super().__init__(request)
        question = request.question
        if not self.accepts(question.kind):
            raise Unsuitable(f"{self.name} needs a question whose answers are rankings; "
                             f"{question.name!r} is a {question.kind.name} question")
        self.strategy = question.strategy(request.options.strategy)
        self.prompt = request.prompt_field()
        self.chat = request.field_column(self.prompt) == MESSAGES
        if not self.chat and request.field_column(self.prompt) != TEXT:
            raise Unsuitable(f"{self.name} needs a prompt field holding text or a conversation; {self.prompt!r} "
                             "holds neither (choose one with the field option)")
        self.implicit = request.options.implicit_prompt
        if self.implicit and not self.chat:
            raise Problem("implicit_prompt needs a chat prompt field: a text prompt would have to be joined "
                          "to each answer, changing the text", ["implicit_prompt"], "unsuitable_option")

    def schema(self) -> dict[str, Column | None]:
        if self.implicit:
            return {"chosen": MESSAGES, "rejected": MESSAGES}
        if self.chat:
            return {"prompt": MESSAGES, "chosen": MESSAGES, "rejected": MESSAGES}
        return {"prompt": TEXT, "chosen": TEXT, "rejected": TEXT}

    def rules(self) -> dict[str, Any]:
        pairs = "best vs worst only" if self.best_vs_worst else "every strictly ordered pair"
        return {"prompt_field": self.prompt, "strategy": self.strategy, "pairs": pairs,
                "ties": "a record whose unified ranking is a tie (unifiedAnswers tie: true) gives no pair; "
                        "counted in ties",
                "option_text": "the record field named like the option value, else the value",
                "format": "conversational {chosen, rejected} (implicit prompt)" if self.implicit
                else "conversational {prompt, chosen, rejected}" if self.chat else "{prompt, chosen, rejected}"}

    def rows(self, record: TaskRecord) -> Iterable[Row]:
        if not record.answers:
            return []
        unified = self.request.question.unify(record.answers, self.strategy)
        if unified.tie:
            self.ties += 1
            return []
        prompt = record.fields.get(self.prompt)
        problem = self._prompt_problem(prompt)
        if problem is not None:
            return self.skip(problem)
        ordered = sorted(unified.value or [], key=lambda r: r["rank"])
        texts = {r["value"]: _text(record.fields, r["value"]) for r in ordered}
        if not all(isinstance(text, str) for text in texts.values()):
            return self.skip("option_text_not_text")
        return [self._row(prompt, texts[chosen], texts[rejected]) for chosen, rejected in self._pairs(ordered)]

    def _prompt_problem(self, prompt: Any) -> str | None:
        """Why the prompt cannot head a row (a missing value, a chat that cannot take a reply)."""
        if not self.chat:
            return None if isinstance(prompt, str) else "prompt_missing"
        return prompt_problem(prompt) if prompt is not None and is_conversation(prompt) else "prompt_missing"

    def _pairs(self, ordered: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Strictly ordered pairs; equal ranks inside a ranking that is not a tie (one labeler
        ranking two options the same) give no pair either."""
        if len(ordered) < 2:
            return []
        if self.best_vs_worst:
            best, worst = ordered[0], ordered[-1]
            return [(best["value"], worst["value"])] if best["rank"] < worst["rank"] else self._equal()
        pairs = [(better["value"], worse["value"]) for i, better in enumerate(ordered)
                 for worse in ordered[i + 1:] if better["rank"] < worse["rank"]]
        return pairs or self._equal()

    def _equal(self) -> list[tuple[str, str]]:
        self.skip("equal_ranks")
        return []

    def _row(self, prompt: Any, chosen: Any, rejected: Any) -> Row:
        if self.implicit:
            return {"chosen": [*prompt, {"role": "assistant", "content": chosen}],
                    "rejected": [*prompt, {"role": "assistant", "content": rejected}]}
        if self.chat:
            return {"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}],
                    "rejected": [{"role": "assistant", "content": rejected}]}
        return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


class DpoTask(RewardModelingTask):
    name = "dpo"
    description = "TRL's DPO triples {prompt, chosen, rejected}; best_vs_worst for one pair per record."

    def __init__(self, request: TaskRequest) -> None:
        super().__init__(request)
        self.best_vs_worst = request.options.best_vs_worst


def _text(fields: Mapping[str, Any], option: str) -> Any:
    return fields.get(option, option)


@hookimpl
def feedbackql_training_tasks() -> list[type[TrainingTask]]:
    return [RewardModelingTask, DpoTask]
