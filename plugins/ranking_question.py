"""The `ranking` question kind: order model responses from best (rank 1) to worst."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from feedbackql.kinds import Agreement, KindModel, QuestionKind, hookimpl
from feedbackql.plugins._common import LabelOption, OptionsSettings, require_known, require_unique


class RankingQuestionSettings(OptionsSettings):
    """2 to 50 options to rank."""

    options: Annotated[list[LabelOption], Field(min_length=2, max_length=50)]


class Rank(KindModel):
    """The rank given to one option; equal ranks are ties."""

    value: str
    rank: Annotated[int, Field(ge=1)]


class RankingQuestion(QuestionKind):
    name = "ranking"
    description = "A ranking of the options, 1 being best; ties allowed."
    settings_model = RankingQuestionSettings
    value_type = Annotated[list[Rank], Field(min_length=1)]
    agreement = Agreement.RANKING
    strategies = ("mean_rank", "majority")

    def validate_value(self, settings: Any, value: Any, *, partial: bool = False) -> Any:
        ranked = [r.value for r in value]
        allowed = settings.option_values()
        require_unique(ranked, "ranked options")
        require_known(ranked, allowed)
        missing = allowed - set(ranked)
        if missing and not partial:
            raise ValueError(f"every option must be ranked; missing: {sorted(missing)}")
        too_high = [r.rank for r in value if r.rank > len(allowed)]
        if too_high:
            raise ValueError(f"ranks must be between 1 and {len(allowed)}; got {too_high}")
        return value


@hookimpl
def feedbackql_question_types() -> list[type[QuestionKind]]:
    return [RankingQuestion]
