"""Deriving strawberry output and input types from pydantic models and type annotations.

Plugin authors describe settings and answer values once, in pydantic; this module turns those
descriptions into GraphQL types, and converts data between stored JSON, GraphQL objects and
the plain dicts pydantic validates.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union

import strawberry
from pydantic import BaseModel
from strawberry.scalars import JSON

Converter = Callable[[Any], Any]
PRIMITIVES: tuple[type, ...] = (bool, int, float, str)


class TypeNameClash(TypeError):
    """Two different models would produce the same GraphQL type name."""


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _optional_member(annotation: Any) -> Any | None:
    """``X`` for ``X | None``; None when ``annotation`` is not optional."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1 and len(typing.get_args(annotation)) == 2:
            return members[0]
    return None


class TypeFactory:
    """Builds (and caches) one output and one input type per pydantic model."""

    def __init__(self) -> None:
        self._outputs: dict[type[BaseModel], type] = {}
        self._inputs: dict[type[BaseModel], type] = {}
        self._names: dict[str, type[BaseModel]] = {}

    def annotation(self, annotation: Any, *, is_input: bool) -> Any:
        """The strawberry annotation for a pydantic annotation."""
        annotation = _strip(annotation)
        inner = _optional_member(annotation)
        if inner is not None:
            return self.annotation(inner, is_input=is_input) | None
        origin = typing.get_origin(annotation)
        if origin in (list, tuple, set, frozenset):
            (item,) = typing.get_args(annotation)[:1]
            return list[self.annotation(item, is_input=is_input)]  # type: ignore[misc]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return self.model_input(annotation) if is_input else self.model_output(annotation)
        if origin is Literal and all(isinstance(a, str) for a in typing.get_args(annotation)):
            return str
        if annotation in PRIMITIVES:
            return annotation
        return JSON

    def model_output(self, model: type[BaseModel], name: str | None = None,
                     implements: tuple[type, str] | None = None) -> type:
        """The output type of ``model``; with ``implements`` (an interface and a kind name),
        one implementing that interface whose ``kind`` field gives the kind name."""
        if model not in self._outputs:
            type_name = self._claim(name or model.__name__, model)
            self._outputs[model] = self._build(model, type_name, is_input=False, implements=implements)
        return self._outputs[model]

    def model_input(self, model: type[BaseModel], name: str | None = None) -> type:
        if model not in self._inputs:
            type_name = self._claim(name or f"{model.__name__}Input", model)
            self._inputs[model] = self._build(model, type_name, is_input=True)
        return self._inputs[model]

    def _claim(self, type_name: str, model: type[BaseModel]) -> str:
        owner = self._names.setdefault(type_name, model)
        if owner is not model:
            raise TypeNameClash(
                f"GraphQL type {type_name!r} is claimed by both {owner.__module__}."
                f"{owner.__qualname__} and {model.__module__}.{model.__qualname__}; "
                "give one of the models another name"
            )
        return type_name

    def _build(self, model: type[BaseModel], type_name: str, *, is_input: bool,
               implements: tuple[type, str] | None = None) -> type:
        annotations: dict[str, Any] = {}
        namespace: dict[str, Any] = {}
        bases: tuple[type, ...] = ()
        if implements is not None:
            interface, kind_name = implements
            if any((info.alias or name) == "kind" for name, info in model.model_fields.items()):
                raise TypeNameClash(f"{model.__module__}.{model.__qualname__} has a field named 'kind', "
                                    "which the settings interface reserves for the kind's name")
            bases = (interface,)
            annotations["kind"] = str
            namespace["kind"] = strawberry.field(default=kind_name)
        for field_name, info in model.model_fields.items():
            graphql_type = self.annotation(info.annotation, is_input=is_input)
            default: Any = strawberry.UNSET
            if is_input and not info.is_required():
                graphql_type = graphql_type | None
            elif is_input:
                default = dataclasses.MISSING
            annotations[field_name] = graphql_type
            # A setting kept under an old name (pydantic ``Field(deprecated=...)``) stays in the
            # schema, marked @deprecated, so clients written against the old name keep working.
            namespace[field_name] = strawberry.field(
                name=info.alias or field_name, description=info.description, default=default,
                deprecation_reason=info.deprecation_message,
            )
        if not annotations:  # a kind without settings: GraphQL types need a field
            annotations["empty"] = bool | None
            namespace["empty"] = strawberry.field(
                name="empty", default=strawberry.UNSET if is_input else None,
                description="Leave out (send `{}`): this kind has no settings." if is_input else "Always null.")
        namespace["__annotations__"] = annotations
        cls = type(type_name, bases, namespace)
        description = (model.__doc__ or "").strip() or None
        if is_input:
            return strawberry.input(cls, name=type_name, description=description)
        return strawberry.type(cls, name=type_name, description=description)

    def output_converter(self, annotation: Any) -> Converter:
        """A function from the stored JSON form to instances of the output types."""
        annotation = _strip(annotation)
        inner = _optional_member(annotation)
        if inner is not None:
            convert_inner = self.output_converter(inner)
            return lambda data: None if data is None else convert_inner(data)
        if typing.get_origin(annotation) in (list, tuple, set, frozenset):
            convert_item = self.output_converter(typing.get_args(annotation)[0])
            return lambda data: [convert_item(item) for item in data]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return self._model_converter(annotation)
        return lambda data: data

    def _model_converter(self, model: type[BaseModel]) -> Converter:
        cls = self.model_output(model)
        parts = [
            (name, info.alias or name, self.output_converter(info.annotation))
            for name, info in model.model_fields.items()
        ]

        def convert(data: Any) -> Any:
            return cls(**{name: conv(data.get(alias)) for name, alias, conv in parts})

        return convert


def to_plain(value: Any) -> Any:
    """A strawberry input object as plain data (python field names, UNSET left out)."""
    definition = getattr(value, "__strawberry_definition__", None)
    if definition is not None:
        out = {}
        for field in definition.fields:
            item = getattr(value, field.python_name)
            if item is not strawberry.UNSET:
                out[field.python_name] = to_plain(item)
        return out
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    return value


def one_of_member(value: Any) -> tuple[str, Any]:
    """The single member set on a ``@oneOf`` input object: (its name, its plain value)."""
    for field in value.__strawberry_definition__.fields:
        item = getattr(value, field.python_name)
        if item is not strawberry.UNSET and item is not None:
            return field.python_name, to_plain(item)
    raise ValueError("a oneOf input has no member set")
