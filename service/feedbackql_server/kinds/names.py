"""How GraphQL type names are derived from a kind, and which names the core keeps for itself.

A kind named ``stars`` adds ``StarsQuestionSettings``, ``StarsQuestionSettingsInput`` and
``StarsValue`` (a field kind: ``StarsFieldSettings`` and ``StarsFieldSettingsInput``), and each
pydantic model nested in its settings or value adds ``<Model>`` and ``<Model>Input``. The
registry checks these names before any GraphQL type is built, so that a clash is reported
naming the plugin instead of surfacing as a schema-building traceback.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any, Union

from pydantic import BaseModel

CORE_TYPE_NAMES: frozenset[str] = frozenset({
    "AddRecordsPayload", "AgreementLevel", "AgreementReport", "AnnotatorAgreement", "AnnotatorProgress",
    "Boolean", "CreateDatasetInput", "CreateUserInput", "Dataset", "DatasetProblem", "DatasetProgress", "DatasetStatus",
    "DateTime", "DeleteRecordsPayload", "Distribution", "DistributionInput", "Field", "FieldInput",
    "FieldSettings", "FieldSettingsInput", "FieldType", "Float", "ID", "Int", "JSON", "MetadataFilter",
    "MetadataProperty", "MetadataPropertyInput", "MetadataPropertyKind", "Mutation", "PageInfo", "Query",
    "Question", "QuestionInput", "QuestionSettings", "QuestionSettingsInput", "QuestionType", "Record",
    "RecordConflictPolicy", "RecordConnection", "RecordEdge", "RecordError", "RecordFilter", "RecordInput",
    "RecordResponseInput", "RecordResponseValueInput", "RecordSort",
    "RecordSortField", "RecordStatus", "Response", "ResponseChange", "ResponseCounts", "ResponseInput",
    "ResponseStatus", "ResponseValue", "ResponseValueInput", "Role", "SortDirection", "String",
    "Subscription", "Suggestion", "SuggestionInput", "TrainingData", "TrainingFilter", "TrainingOptionsInput",
    "TrainingTaskType",
    "UnavailableKindSettings", "UnavailableValue", "UnifiedAnswer", "UnifiedAnswerConnection",
    "UnifiedAnswerEdge", "UpdateDatasetInput", "User", "UserWithApiKey", "Value", "ValueInput", "Workspace",
    "NearDuplicatePair", "NearDuplicates", "NearInput", "RecordVectorsInput", "SetVectorsPayload",
    "SimilarRecord", "SimilarRecords", "SimilarityOrder",
    "VectorMetric", "VectorSpace", "VectorSpaceInput",
})
"""Type names of the schema that no kind provides (a test keeps this list equal to the schema).
Names GraphQL itself reserves start with ``__``, which no kind name or model name can."""


def pascal(name: str) -> str:
    """``multiLabel`` -> ``MultiLabel``: the prefix of every type a kind adds."""
    return name[:1].upper() + name[1:]


def kind_type_names(category: str, name: str) -> list[str]:
    """The type names a kind of ``category`` (``field`` or ``question``) named ``name`` adds."""
    settings = f"{pascal(name)}{pascal(category)}Settings"
    names = [settings, f"{settings}Input"]
    if category == "question":
        names.append(f"{pascal(name)}Value")
    return names


def nested_models(annotation: Any) -> Iterator[type[BaseModel]]:
    """Every pydantic model reachable from ``annotation`` (a settings model's fields or a
    value type), the way the GraphQL types are derived from them."""
    seen: set[type[BaseModel]] = set()
    stack = [annotation]
    while stack:
        current = stack.pop()
        if isinstance(current, type) and issubclass(current, BaseModel):
            if current in seen:
                continue
            seen.add(current)
            yield current
            stack.extend(info.annotation for info in current.model_fields.values())
        elif typing.get_origin(current) in (typing.Annotated, list, tuple, set, frozenset, Union,
                                            types.UnionType):
            stack.extend(typing.get_args(current))


def model_type_names(model: type[BaseModel]) -> list[str]:
    return [model.__name__, f"{model.__name__}Input"]
