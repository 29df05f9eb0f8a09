"""Rows held to their declared column types, and the Arrow schema those types give.

Every format writes the same conformed rows, so a value read back from Parquet or a
``datasets`` folder equals, in value and type, the one in JSON Lines (``JSON`` columns are the
one stated exception: JSON text where a format needs one type per column).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from feedbackql_server.kinds.columns import Column, infer

Row = dict[str, Any]


class Mismatch(ValueError):
    """A task gave a value that is not of its column's declared type."""


def resolve(declared: Mapping[str, Column | None], first_rows: list[Row]) -> dict[str, Column]:
    """Declared types, and for undeclared columns the type of the first non-null value."""
    resolved: dict[str, Column] = {}
    for name, column in declared.items():
        if column is None:
            seen = next((row[name] for row in first_rows if row.get(name) is not None), "")
            column = infer(seen)
        resolved[name] = column
    return resolved


def conform(row: Row, columns: Mapping[str, Column]) -> Row:
    """The row with exactly ``columns``, each value checked against (and, for numbers,
    converted to) its type: an int in a float column becomes a float."""
    return {name: _value(row.get(name), column, name) for name, column in columns.items()}


def _value(value: Any, column: Column, path: str) -> Any:
    if value is None or column.kind == "json":
        return value
    kind = column.kind
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind in ("float", "float32") and isinstance(value, int | float) and not isinstance(value, bool) \
            and math.isfinite(value):
        return float(value)
    if kind == "list" and isinstance(value, list) and column.item is not None \
            and column.length in (None, len(value)):
        return [_value(item, column.item, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "struct" and isinstance(value, dict):
        return {name: _value(value.get(name), member, f"{path}.{name}") for name, member in column.members}
    raise Mismatch(f"{path}: {type(value).__name__} where the task declared {column.describe()}")


def flat_json(row: Row, columns: Mapping[str, Column]) -> Row:
    """``JSON`` columns as JSON text: for formats with one type per column."""
    return {name: _json_text(row.get(name)) if column.kind == "json" else row.get(name)
            for name, column in columns.items()}


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def arrow_schema(columns: Mapping[str, Column], metadata: Mapping[str, str]) -> Any:
    """The ``pyarrow.Schema`` of conformed (``flat_json``) rows."""
    import pyarrow as pa

    return pa.schema([(name, arrow_type(column)) for name, column in columns.items()], metadata=dict(metadata))


def arrow_type(column: Column) -> Any:
    import pyarrow as pa

    scalars = {"string": pa.string(), "integer": pa.int64(), "float": pa.float64(), "float32": pa.float32(),
               "boolean": pa.bool_(), "json": pa.string()}
    if column.kind in scalars:
        return scalars[column.kind]
    if column.kind == "list" and column.item is not None:
        return pa.list_(arrow_type(column.item), -1 if column.length is None else column.length)
    return pa.struct([(name, arrow_type(member)) for name, member in column.members])


def arrow_table(rows: list[Row], columns: Mapping[str, Column], schema: Any) -> Any:
    """The ``pyarrow.Table`` of conformed (``flat_json``) rows, a column at a time."""
    import pyarrow as pa

    return pa.Table.from_arrays([arrow_array([row.get(name) for row in rows], column)
                                 for name, column in columns.items()], schema=schema)


def arrow_array(values: list[Any], column: Column) -> Any:
    """One column's values as an Arrow array. A fixed-size float32 list (an embedding) is
    built from one numpy buffer, not a Python float per value, and so is a struct of them."""
    import pyarrow as pa

    nulls = [value is None for value in values]
    if column.kind == "struct" and any(member.kind in ("list", "struct") for _, member in column.members):
        members = [arrow_array([None if value is None else value.get(name) for value in values], member)
                   for name, member in column.members]
        return pa.StructArray.from_arrays(members, fields=list(arrow_type(column)),
                                          mask=pa.array(nulls, pa.bool_()))
    item = column.item
    if column.kind == "list" and column.length is not None and item is not None and item.kind == "float32" \
            and all(value is None or isinstance(value, np.ndarray) for value in values):
        matrix = np.zeros((len(values), column.length), dtype=np.float32)
        for index, value in enumerate(values):
            if value is not None:
                matrix[index] = value
        return pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), column.length,
                                                 mask=pa.array(nulls, pa.bool_()))
    return pa.array(values, type=arrow_type(column))


def describe(columns: Mapping[str, Column]) -> dict[str, Any]:
    return {name: column.describe() for name, column in columns.items()}
