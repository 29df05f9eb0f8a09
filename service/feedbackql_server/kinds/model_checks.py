"""Mistakes in a kind's pydantic models that would otherwise pass start-up and fail later,
silently: a plain ``BaseModel`` (snake_case names leak into JSON, unknown stored keys are
dropped, so a renamed setting quietly reverts to its default), a model that lets unknown keys
through, and two fields that end up with one camelCase name (one GraphQL field for two, and
every answer then fails)."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from pydantic import BaseModel

from feedbackql_server.kinds.base import KindModel
from feedbackql_server.kinds.names import nested_models

FIX_BASE = ("subclass feedbackql_server.kinds.KindModel instead (camelCase names, unknown keys refused, "
            "frozen)")


def models_problem(kind_cls: Any) -> str | None:
    """What is wrong with the settings model or the models of the value, or None."""
    for role, annotation in (("settings", kind_cls.settings_model), ("value", kind_cls.value_type)):
        for model in nested_models(annotation):
            problem = _model_problem(model)
            if problem:
                return f"has a {role} model {_qualified(model)} that {problem}"
    return None


def _model_problem(model: type[BaseModel]) -> str | None:
    if not issubclass(model, KindModel):
        return f"is a plain pydantic BaseModel; {FIX_BASE}"
    if model.model_config.get("extra") != "forbid":
        return ("does not forbid unknown keys (model_config extra="
                f"{model.model_config.get('extra')!r}): a renamed or misspelt key would be dropped "
                "silently; keep KindModel's extra='forbid'")
    return _collision(model)


def _collision(model: type[BaseModel]) -> str | None:
    """Two fields one of whose names (the Python name or its camelCase alias) is the other's."""
    fields = [(name, info.alias or name) for name, info in model.model_fields.items()]
    for (name, alias), (other, other_alias) in combinations(fields, 2):
        shared = {name, alias} & {other, other_alias}
        if shared:
            return (f"has the fields {name!r} and {other!r}, which are both {min(shared)!r} in GraphQL "
                    "and JSON; remove or rename one of them")
    return None


def _qualified(model: type[BaseModel]) -> str:
    return f"{model.__module__}.{model.__qualname__}"
