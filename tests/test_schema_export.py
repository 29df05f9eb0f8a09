"""The committed schema.graphql is what the code exports with the built-in kinds."""

from __future__ import annotations

from feedbackql_server.api.schema import build_schema
from feedbackql_server.kinds.registry import KindRegistry
from tests.conftest import repo_root


def test_committed_schema_is_current(builtin_registry: KindRegistry) -> None:
    exported = build_schema(builtin_registry).as_str() + "\n"
    committed = (repo_root() / "schema.graphql").read_text()
    assert committed == exported, "run `feedbackql schema --builtin-only > schema.graphql`"


def test_contract_names_are_present(builtin_registry: KindRegistry) -> None:
    sdl = build_schema(builtin_registry).as_str()
    for name in ("input CreateDatasetInput", "input FieldInput", "input QuestionInput",
                 "input RecordInput", "input SuggestionInput", "input ResponseInput",
                 "input ResponseValueInput", "input ValueInput @oneOf", "input RankInput",
                 "input CreateUserInput", "input RecordFilter", "enum DatasetStatus",
                 "enum RecordStatus", "enum ResponseStatus", "enum Role",
                 "interface Value {", "interface QuestionSettings {", "interface FieldSettings {",
                     "type RatingValue implements Value {", "type UnavailableValue implements Value {"):
        assert name in sdl, name
