"""The `ranking` question kind: order model responses from best (rank 1) to worst."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Annotated, Any

from pydantic import Field

from feedbackql_plugins._common import LabelOption, OptionsSettings, majority, require_known, require_unique
from feedbackql_server.kinds import Agreement, KindModel, Problem, QuestionKind, Unified, hookimpl


class RankingQuestionSettings(OptionsSettings):
    """2 to 50 options to rank."""

    options: Annotated[list[LabelOption], Field(min_length=2, max_length=50, title="Options")]


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
            raise Problem(f"every option must be ranked; missing: {sorted(missing)}", reason="unranked_option")
        too_high = [r.rank for r in value if r.rank > len(allowed)]
        if too_high:
            raise Problem(f"ranks must be between 1 and {len(allowed)}; got {too_high}", reason="out_of_range")
        return value

    def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
        """mean_rank: options ordered by their mean rank (Borda-style), equal means share a
        rank (a tie); majority: the most frequent ranking, ties going to the one submitted
        first."""
        if not answers:
            return Unified(None)
        as_maps = [{r["value"]: r["rank"] for r in answer} for answer in answers]
        disagreement = len({tuple(sorted(m.items())) for m in as_maps}) > 1
        if strategy == "majority":
            keys = [tuple(sorted(m.items())) for m in as_maps]
            winner, tie = majority(keys, keys)
            return Unified(_ranking(dict(winner)), tie=tie, disagreement=disagreement)
        options = [o.value for o in settings.options]
        means = {option: sum(m[option] for m in as_maps if option in m) / max(1, sum(option in m for m in as_maps))
                 for option in options if any(option in m for m in as_maps)}
        distinct = sorted(set(means.values()))
        ranks = {option: distinct.index(mean) + 1 for option, mean in means.items()}
        return Unified(_ranking(ranks), tie=len(distinct) < len(means), disagreement=disagreement)

    def answer_schema(self, settings: Any) -> dict[str, Any]:
        """Every option ranked once (drafts may leave some out), ranks 1 to the number of options."""
        count = len(settings.options)
        return {"title": "Ranking", "type": "array", "minItems": count, "maxItems": count, "items": {
            "type": "object", "title": "Rank", "additionalProperties": False, "required": ["value", "rank"],
            "properties": {"value": {"title": "Option", "enum": [o.value for o in settings.options]},
                           "rank": {"title": "Rank", "type": "integer", "minimum": 1, "maximum": count}}}}

    def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
        """Each option's rank, compared as an interval value across labelers."""
        return [(r["value"], r["rank"]) for r in answer]


def _ranking(ranks: dict[str, int]) -> list[dict[str, Any]]:
    ordered = sorted(ranks.items(), key=lambda item: (item[1], item[0]))
    return [{"value": value, "rank": rank} for value, rank in ordered]


@hookimpl
def feedbackql_question_types() -> list[type[QuestionKind]]:
    return [RankingQuestion]
