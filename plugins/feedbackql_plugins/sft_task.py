"""The `sft` training task: prompt/completion rows in TRL's format from free-text answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from feedbackql_server.kinds import Agreement, QuestionKind, hookimpl
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

NO_UNIFICATION = "none"
"""The text strategy that combines nothing: here, one row per submitted answer."""


def writes_free_text(kind: QuestionKind) -> bool:
    """Answers that are free text (a completion), not a choice among options."""
    return kind.agreement is Agreement.NONE and kind.value_schema().get("type") == "string"


class SftTask(TrainingTask):
    """One row per submitted answer (or per record with a unification strategy):
    ``{prompt, completion}`` when the prompt field holds text, ``{messages}`` when it holds a
    conversation (the answer becomes the final assistant turn; see ``prompt_problem``)."""

    name = "sft"
    description = "Supervised fine-tuning rows: {prompt, completion}, or {messages} for a chat prompt."
    columns = ("prompt", "completion", "messages")
    column_types: ClassVar[Mapping[str, Column]] = {"prompt": TEXT, "completion": TEXT, "messages": MESSAGES}

    @classmethod
    def accepts(cls, kind: QuestionKind) -> bool:
        return writes_free_text(kind)

    def __init__(self, request: TaskRequest) -> None:
        super().__init__(request)
        question = request.question
        if not self.accepts(question.kind):
            raise Unsuitable(f"sft needs a question whose answers are written text (a completion); "
                             f"{question.name!r} is a {question.kind.name} question")
        asked = request.options.strategy
        self.strategy = question.strategy(asked) if asked and asked != NO_UNIFICATION else None
        if asked == NO_UNIFICATION:
            question.strategy(asked)  # still refused by a kind that has no such strategy
        self.prompt = request.prompt_field()
        self.chat = request.field_column(self.prompt) == MESSAGES
        if not self.chat and request.field_column(self.prompt) != TEXT:
            raise Unsuitable(f"sft needs a prompt field holding text or a conversation; {self.prompt!r} "
                             "holds neither (choose one with the field option)")

    def schema(self) -> dict[str, Column | None]:
        return {"messages": MESSAGES} if self.chat else {"prompt": TEXT, "completion": TEXT}

    def rules(self) -> dict[str, Any]:
        rows = f"one per record (unified: {self.strategy})" if self.strategy else "one per submitted answer"
        rules = {"prompt_field": self.prompt, "rows": rows,
                 "format": "{messages} (conversational)" if self.chat else "{prompt, completion}"}
        if self.chat:
            rules["conversations"] = ("prompt: an optional system turn, then user/assistant turns alternating "
                                      "from user, ending with user; other records are left out (skipped)")
        return rules

    def rows(self, record: TaskRecord) -> Iterable[Row]:
        if not record.answers:
            return []
        completions = ([self.request.question.unify(record.answers, self.strategy).value] if self.strategy
                       else list(record.answers))
        completions = [c for c in completions if isinstance(c, str)]
        prompt: Any = record.fields.get(self.prompt)
        if not completions:
            return []
        if not self.chat:
            return [{"prompt": prompt, "completion": c} for c in completions] if isinstance(prompt, str) \
                else self.skip("prompt_missing")
        problem = prompt_problem(prompt) if is_conversation(prompt) else "prompt_missing"
        if problem is not None:
            return self.skip(problem)
        return [{"messages": [*prompt, {"role": "assistant", "content": c}]} for c in completions]


@hookimpl
def feedbackql_training_tasks() -> list[type[TrainingTask]]:
    return [SftTask]
