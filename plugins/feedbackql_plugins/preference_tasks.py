"""The `reward_modeling` and `dpo` training tasks: {prompt, chosen, rejected} from rankings.

From the unified ranking of each record (``mean_rank`` by default), one row for every pair of
options in a strict order. Options with equal unified ranks produce no pair and are counted
as ties. An option's text is the record field named like the option's value, else the value.
A conversation prompt gives TRL's conversational form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from feedbackql_server.kinds import Agreement, hookimpl
from feedbackql_server.kinds.tasks import Row, TaskRecord, TaskRequest, TrainingTask, Unsuitable, is_conversation


class RewardModelingTask(TrainingTask):
    name = "reward_modeling"
    description = "{prompt, chosen, rejected} for every strictly ordered pair of the unified ranking."
    columns = ("prompt", "chosen", "rejected")
    best_vs_worst = False

    def __init__(self, request: TaskRequest) -> None:
        super().__init__(request)
        question = request.question
        if question.kind.agreement is not Agreement.RANKING:
            raise Unsuitable(f"{self.name} needs a question whose answers are rankings; "
                             f"{question.name!r} is a {question.kind.name} question")
        self.strategy = question.strategy(request.options.strategy)
        self.prompt = request.prompt_field()

    def rules(self) -> dict[str, Any]:
        pairs = "best vs worst only" if self.best_vs_worst else "every strictly ordered pair"
        return {"prompt_field": self.prompt, "strategy": self.strategy, "pairs": pairs,
                "ties": "options with equal unified rank give no pair; counted as ties",
                "option_text": "the record field named like the option value, else the value"}

    def rows(self, record: TaskRecord) -> Iterable[Row]:
        if not record.answers:
            return []
        ranking = self.request.question.unify(record.answers, self.strategy).value or []
        prompt = record.fields.get(self.prompt)
        return [_preference(prompt, _text(record.fields, chosen), _text(record.fields, rejected))
                for chosen, rejected in self._pairs(sorted(ranking, key=lambda r: r["rank"]))]

    def _pairs(self, ordered: list[dict[str, Any]]) -> list[tuple[str, str]]:
        if self.best_vs_worst:
            if len(ordered) >= 2 and ordered[0]["rank"] < ordered[-1]["rank"]:
                return [(ordered[0]["value"], ordered[-1]["value"])]
            self.ties += 1 if len(ordered) >= 2 else 0
            return []
        pairs = []
        for i, better in enumerate(ordered):
            for worse in ordered[i + 1:]:
                if better["rank"] < worse["rank"]:
                    pairs.append((better["value"], worse["value"]))
                else:
                    self.ties += 1
        return pairs


class DpoTask(RewardModelingTask):
    name = "dpo"
    description = "TRL's DPO triples {prompt, chosen, rejected}; best_vs_worst for one pair per record."

    def __init__(self, request: TaskRequest) -> None:
        super().__init__(request)
        self.best_vs_worst = request.options.best_vs_worst


def _text(fields: Mapping[str, Any], option: str) -> Any:
    return fields.get(option, option)


def _preference(prompt: Any, chosen: Any, rejected: Any) -> Row:
    if is_conversation(prompt):
        return {"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": rejected}]}
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


@hookimpl
def feedbackql_training_tasks() -> list[type[TrainingTask]]:
    return [RewardModelingTask, DpoTask]
