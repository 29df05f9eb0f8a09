"""The `sft` training task: prompt/completion rows in TRL's format from free-text answers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from feedbackql_server.kinds import Agreement, QuestionKind, hookimpl
from feedbackql_server.kinds.tasks import Row, TaskRecord, TaskRequest, TrainingTask, Unsuitable, is_conversation


def writes_free_text(kind: QuestionKind) -> bool:
    """Answers that are free text (a completion), not a choice among options."""
    return kind.agreement is Agreement.NONE and kind.value_schema().get("type") == "string"


class SftTask(TrainingTask):
    """One row per submitted answer (or per record with a unification strategy):
    ``{prompt, completion}``, or ``{messages}`` when the prompt field holds a conversation
    (the answer becomes the final assistant turn)."""

    name = "sft"
    description = "Supervised fine-tuning rows: {prompt, completion}, or {messages} for a chat prompt."
    columns = ("prompt", "completion", "messages")

    def __init__(self, request: TaskRequest) -> None:
        super().__init__(request)
        question = request.question
        if not writes_free_text(question.kind):
            raise Unsuitable(f"sft needs a question whose answers are written text (a completion); "
                             f"{question.name!r} is a {question.kind.name} question")
        self.strategy = question.strategy(request.options.strategy) if request.options.strategy else None
        self.prompt = request.prompt_field()

    def rules(self) -> dict[str, Any]:
        rows = f"one per record (unified: {self.strategy})" if self.strategy else "one per submitted answer"
        return {"prompt_field": self.prompt, "rows": rows, "format": "{prompt, completion} or {messages}"}

    def rows(self, record: TaskRecord) -> Iterable[Row]:
        if not record.answers:
            return []
        completions = ([self.request.question.unify(record.answers, self.strategy).value] if self.strategy
                       else list(record.answers))
        prompt: Any = record.fields.get(self.prompt)
        rows: list[Row] = []
        for completion in completions:
            if not isinstance(completion, str):
                continue
            if is_conversation(prompt):
                rows.append({"messages": [*prompt, {"role": "assistant", "content": completion}]})
            else:
                rows.append({"prompt": prompt, "completion": completion})
        return rows


@hookimpl
def feedbackql_training_tasks() -> list[type[TrainingTask]]:
    return [SftTask]
