"""The plugin-dependent part of the schema: settings and value types, one per installed kind.

Outputs implement the interfaces of ``kind_interfaces`` (``RatingQuestionSettings`` implements
``QuestionSettings``; ``RatingValue`` implements ``Value``); inputs are ``@oneOf`` objects
(``QuestionSettingsInput { rating: {...} }``, ``ValueInput { rating: 5 }``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import strawberry

from feedbackql_server.api.kind_interfaces import (
    FieldSettings,
    QuestionSettings,
    UnavailableKindSettings,
    UnavailableValue,
    Value,
)
from feedbackql_server.api.model_types import Converter, TypeFactory, TypeNameClash
from feedbackql_server.documents import StoredValue
from feedbackql_server.domain.plugin_failures import log_read_failure
from feedbackql_server.kinds.base import Kind
from feedbackql_server.kinds.names import pascal
from feedbackql_server.kinds.registry import KindRegistry, RegisteredKind


@dataclass(frozen=True)
class KindFamily:
    """Output types, ``@oneOf`` input and converters for one family (e.g. question settings)."""

    outputs: list[type]
    input: type
    converters: Mapping[str, Converter]

    def to_output(self, kind: str, data: Any) -> Any:
        return self.converters[kind](data)


@dataclass(frozen=True)
class ValueFamily(KindFamily):
    """Values are read through their kind, migrated from the plugin version that wrote them;
    one the installed kind cannot read is an ``UnavailableValue``, never an error."""

    registry: KindRegistry

    def stored_to_output(self, stored: StoredValue) -> Any:
        kind = stored["kind"]
        entry = self.registry.questions.get(kind)
        if entry is None or kind not in self.converters:
            return UnavailableValue(kind=kind, reason=f"no installed plugin provides the {kind!r} kind")
        try:
            value = entry.kind.migrate_value(stored["value"], stored.get("plugin_version"))
            return self.converters[kind](entry.kind.dump_value(entry.kind.value_adapter.validate_python(value)))
        except Exception as exc:  # the plugin's own code: the value is shown as stored instead
            log_read_failure(exc, kind=kind, plugin=entry.plugin, version=entry.version, item="a stored value")
            return UnavailableValue(kind=kind, reason=f"{entry.plugin} {entry.version} cannot read it: "
                                                      f"{type(exc).__name__}"[:300])


@dataclass(frozen=True)
class KindTypes:
    field_settings: KindFamily
    question_settings: KindFamily
    values: ValueFamily
    registry: KindRegistry

    @property
    def object_types(self) -> list[type]:
        """The generated implementations, which the schema must be told about (nothing else
        names them)."""
        return [*self.field_settings.outputs, *self.question_settings.outputs, *self.values.outputs,
                UnavailableKindSettings, UnavailableValue]


def build_kind_types(registry: KindRegistry, factory: TypeFactory) -> KindTypes:
    return KindTypes(
        field_settings=_settings_family(factory, registry.fields, FieldSettings),
        question_settings=_settings_family(factory, registry.questions, QuestionSettings),
        values=_value_family(factory, registry),
        registry=registry,
    )


def _settings_family(
    factory: TypeFactory, kinds: Mapping[str, RegisteredKind[Any]], interface: type
) -> KindFamily:
    family = interface.__name__
    outputs: list[type] = []
    inputs: dict[str, Any] = {}
    converters: dict[str, Converter] = {}
    for name, entry in kinds.items():
        model = entry.kind.settings_model
        outputs.append(factory.model_output(model, f"{pascal(name)}{family}", implements=(interface, name)))
        inputs[name] = factory.model_input(model, f"{pascal(name)}{family}Input")
        converters[name] = factory.output_converter(model)
    return KindFamily(
        outputs=outputs,
        input=_one_of(f"{family}Input", inputs, f"Exactly one member: the kind of the {family}."),
        converters=converters,
    )


def _value_family(factory: TypeFactory, registry: KindRegistry) -> ValueFamily:
    outputs: list[type] = []
    inputs: dict[str, Any] = {}
    converters: dict[str, Converter] = {}
    for name, entry in registry.questions.items():
        kind: Kind = entry.kind
        wrapper = _value_wrapper(factory, name, kind)
        outputs.append(wrapper)
        inputs[name] = factory.annotation(kind.value_type, is_input=True)
        converters[name] = _wrap(wrapper, name, factory.output_converter(kind.value_type))
    return ValueFamily(
        outputs=outputs,
        input=_one_of("ValueInput", inputs, "An answer or suggestion: the member of its kind."),
        converters=converters,
        registry=registry,
    )


def _value_wrapper(factory: TypeFactory, name: str, kind: Kind) -> type:
    if name == "kind":
        raise TypeNameClash("a question kind cannot be named 'kind': the Value interface reserves that field")
    annotation = factory.annotation(kind.value_type, is_input=False)
    cls = type(f"{pascal(name)}Value", (Value,), {
        "__annotations__": {name: annotation, "kind": str},
        name: strawberry.field(name=name),
        "kind": strawberry.field(default=name),
    })
    return strawberry.type(cls, name=f"{pascal(name)}Value",
                           description=f"An answer to a {name} question.")


def _wrap(wrapper: type, name: str, convert: Converter) -> Callable[[Any], Any]:
    return lambda data: wrapper(**{name: convert(data)})


def _one_of(name: str, members: Mapping[str, Any], description: str) -> type:
    namespace: dict[str, Any] = {
        "__annotations__": {key: annotation | None for key, annotation in members.items()}
    }
    for key in members:
        namespace[key] = strawberry.field(name=key, default=strawberry.UNSET)
    return strawberry.input(type(name, (), namespace), name=name, one_of=True,
                            description=description)
