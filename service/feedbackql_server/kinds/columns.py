"""Column types of training rows: what a task promises about each column's values.

TRL (and ``datasets``) tell a conversational dataset from a plain one by the types of its
columns, so an export must carry them: a prompt that is a conversation stays a list of
``{role, content}`` structs in every format, a rating stays a number. A task declares one
``Column`` per column (``TrainingTask.schema``); the core conforms every row to it and derives
the Parquet/Arrow schema from it. The vocabulary is small on purpose: strings, numbers,
booleans, lists, structs, and ``JSON`` for values with no fixed shape (kept as they are in
JSON Lines, written as JSON text where a format needs one type per column).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Column:
    """A column type: ``kind`` is string, integer, float, float32, boolean, list, struct or json."""

    kind: str
    item: Column | None = None
    """The type of a list's items."""
    members: tuple[tuple[str, Column], ...] = ()
    """A struct's members, in order."""
    length: int | None = None
    """A list of exactly this many items (Arrow's fixed-size list), e.g. an embedding."""

    def describe(self) -> Any:
        """A JSON-able description, for the rules header and ``trainingTasks``."""
        if self.kind == "list" and self.item is not None:
            return [self.item.describe()] if self.length is None else [self.item.describe(), self.length]
        if self.kind == "struct":
            return {name: member.describe() for name, member in self.members}
        return self.kind


TEXT = Column("string")
INTEGER = Column("integer")
FLOAT = Column("float")
FLOAT32 = Column("float32")
"""A single-precision number: the values of an embedding."""
BOOLEAN = Column("boolean")
JSON = Column("json")


def list_of(item: Column, length: int | None = None) -> Column:
    return Column("list", item=item, length=length)


def struct(**members: Column) -> Column:
    return Column("struct", members=tuple(members.items()))


MESSAGES = list_of(struct(role=TEXT, content=TEXT))
"""A conversation as TRL documents it: a list of ``{role, content}`` messages."""

_SCALARS = {"string": TEXT, "integer": INTEGER, "number": FLOAT, "boolean": BOOLEAN}


def of_json_schema(schema: Mapping[str, Any], definitions: Mapping[str, Any] | None = None) -> Column:
    """The column type of values described by a JSON Schema (a kind's ``value_schema``):
    scalars, arrays and objects with a closed set of properties map over; anything else is
    ``JSON``, kept whole."""
    definitions = definitions if definitions is not None else schema.get("$defs", {})
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        return of_json_schema(definitions.get(reference.removeprefix("#/$defs/"), {}), definitions)
    kind = schema.get("type")
    if isinstance(kind, str) and kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        return list_of(of_json_schema(schema["items"], definitions))
    properties = schema.get("properties")
    closed = schema.get("additionalProperties") is False  # a struct would drop any other key
    if kind == "object" and closed and isinstance(properties, Mapping) and properties:
        return Column("struct", members=tuple((name, of_json_schema(sub, definitions))
                                              for name, sub in properties.items()))
    return JSON


def infer(value: Any) -> Column:
    """The type of one value, for tasks that declare no types (plugins written before types)."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return TEXT
    if isinstance(value, list) and value and all(isinstance(m, dict) and set(m) == {"role", "content"}
                                                 for m in value):
        return MESSAGES
    return JSON
