"""Column types of training rows, without a server: what a kind's value schema maps to, and
how a row is held to its types (kinds/columns.py, export/typed.py)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from feedbackql_server.export import typed
from feedbackql_server.kinds.columns import FLOAT, INTEGER, JSON, MESSAGES, TEXT, list_of, of_json_schema, struct


def test_value_schemas_map_to_columns_and_open_objects_stay_whole() -> None:
    message = {"type": "object", "additionalProperties": False,
               "properties": {"role": {"type": "string"}, "content": {"type": "string"}}}
    assert of_json_schema({"type": "array", "items": {"$ref": "#/$defs/M"}, "$defs": {"M": message}}) == MESSAGES
    assert of_json_schema({"type": "number"}) == FLOAT
    # An object that may hold other keys would lose them as a struct: it stays JSON.
    assert of_json_schema({**message, "additionalProperties": True}) == JSON
    assert of_json_schema({"anyOf": [{"type": "string"}, {"type": "integer"}]}) == JSON


def test_rows_are_held_to_their_types() -> None:
    columns = {"prompt": MESSAGES, "n": INTEGER, "score": FLOAT, "extra": JSON}
    row = {"prompt": [{"role": "user", "content": "hi"}], "n": 2, "score": 5, "extra": {"a": [1]}, "stray": 1}
    conformed = typed.conform(row, columns)
    assert conformed == {"prompt": [{"role": "user", "content": "hi"}], "n": 2, "score": 5.0, "extra": {"a": [1]}}
    assert type(conformed["score"]) is float
    assert typed.flat_json(conformed, columns)["extra"] == '{"a":[1]}'
    for bad in ({"n": True}, {"n": "2"}, {"score": float("nan")}, {"prompt": [{"role": 1, "content": "x"}]}):
        with pytest.raises(typed.Mismatch):
            typed.conform(bad, columns)


def test_arrow_schema_and_inferred_columns() -> None:
    schema = typed.arrow_schema({"spans": list_of(struct(start=INTEGER, label=TEXT)), "rating": FLOAT}, {"k": "v"})
    assert schema.field("spans").type == pa.list_(pa.struct([("start", pa.int64()), ("label", pa.string())]))
    assert schema.metadata == {b"k": b"v"}
    inferred = typed.resolve({"a": None, "b": None, "c": TEXT}, [{"a": None, "b": 1.5}, {"a": "x"}])
    assert inferred == {"a": TEXT, "b": FLOAT, "c": TEXT}
