"""Encoding row streams as JSON Lines, CSV or Parquet, chunk by chunk: one class per format,
looked up by name in ``FORMATS``.

Rows come conformed to their column types (``export.typed``). Parquet carries those types;
CSV cannot (every cell is text: lists and structs as JSON) and writes cells unchanged unless
``spreadsheet_safe`` is asked for, which is for files meant for people, never for training.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from feedbackql_server.errors import Invalid
from feedbackql_server.export.floats import json_lists, json_numbers
from feedbackql_server.export.typed import arrow_schema, arrow_table, flat_json
from feedbackql_server.kinds.columns import Column

ROWS_PER_CHUNK = 500
Rows = AsyncIterator[dict[str, Any]]
Footer = Callable[[], dict[str, str]]
Columns = Mapping[str, Column]


class Format:
    """An export encoding. ``metadata`` (the rules) and ``final_metadata()`` (figures known
    only at the end) go where the format can hold them; the HTTP headers carry the rules."""

    name: ClassVar[str]
    media_type: ClassVar[str]
    extension: ClassVar[str]

    def check(self) -> None:
        """Raise ``Invalid`` when the format cannot be written here (a missing extra)."""

    carries_types: ClassVar[bool] = True
    """False when a reader gets every value back as text (CSV)."""

    def encode(self, rows: Rows, columns: Columns, metadata: dict[str, str],
               final_metadata: Footer | None, spreadsheet_safe: bool = False) -> AsyncIterator[bytes]:
        raise NotImplementedError


class JsonLines(Format):
    name, media_type, extension = "jsonl", "application/jsonl", "jsonl"

    def encode(self, rows: Rows, columns: Columns, metadata: dict[str, str],
               final_metadata: Footer | None, spreadsheet_safe: bool = False) -> AsyncIterator[bytes]:
        return jsonl(rows)


class Csv(Format):
    name, media_type, extension = "csv", "text/csv", "csv"
    carries_types = False

    def encode(self, rows: Rows, columns: Columns, metadata: dict[str, str],
               final_metadata: Footer | None, spreadsheet_safe: bool = False) -> AsyncIterator[bytes]:
        return csv_rows(rows, list(columns), spreadsheet_safe)


DISTRIBUTION = "feedbackql-server"
"""The name pip knows the service by (pyproject.toml), whose ``parquet`` extra brings pyarrow."""


class Parquet(Format):
    name, media_type, extension = "parquet", "application/vnd.apache.parquet", "parquet"

    def check(self) -> None:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise Invalid(f"Parquet needs pyarrow: pip install '{DISTRIBUTION}[parquet]' (or pip install pyarrow)",
                          ["format"], reason="unavailable_format") from None

    def encode(self, rows: Rows, columns: Columns, metadata: dict[str, str],
               final_metadata: Footer | None, spreadsheet_safe: bool = False) -> AsyncIterator[bytes]:
        return parquet(rows, columns, metadata, final_metadata)


FORMATS: dict[str, Format] = {f.name: f for f in (JsonLines(), Csv(), Parquet())}


def get_format(name: str) -> Format:
    chosen = FORMATS.get(name)
    if chosen is None:
        raise Invalid(f"format is one of {sorted(FORMATS)}", ["format"], reason="unknown_format")
    chosen.check()
    return chosen


VECTOR_MARK = "\u0000vector\u0000"
"""Stands for a vector in a chunk's JSON until every vector of the chunk is formatted at once.
Stored text never holds NUL (refused on the way in); a chunk whose text holds this mark
anyway is written value by value."""
MARK_TEXT = json.dumps(VECTOR_MARK)


def _json_texts(values: list[Any]) -> list[str]:
    """``values`` as JSON text. 1-D float32 numpy arrays (the record export's vectors) become
    lists of the short numbers that read back to them, formatted for all of them at once
    (``floats``); other numpy arrays become lists."""
    vectors: list[Any] = []

    def vector(value: Any) -> Any:
        if isinstance(value, np.ndarray) and value.dtype == np.float32 and value.ndim == 1:
            vectors.append(value)
            return VECTOR_MARK
        if isinstance(value, np.ndarray):
            return json_numbers(value) if value.dtype == np.float32 else value.tolist()
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    texts = [json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=vector) for value in values]
    if not vectors:
        return texts
    if sum(text.count(MARK_TEXT) for text in texts) != len(vectors):
        return [json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_as_list) for value in values]
    formatted = iter(json_lists(vectors))
    return ["".join(part if i == 0 else next(formatted) + part for i, part in enumerate(text.split(MARK_TEXT)))
            for text in texts]


def _as_list(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return json_numbers(value) if value.dtype == np.float32 else value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


async def _chunks(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    async for row in rows:
        chunk.append(row)
        if len(chunk) == ROWS_PER_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def jsonl(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    async for chunk in _chunks(rows):
        yield "".join(text + "\n" for text in _json_texts(chunk)).encode()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _flat(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Top-level values as cells: strings as they are, anything else as JSON."""
    cells = [dict(row) for row in chunk]
    places = [(cell, key) for cell in cells for key, value in cell.items()
              if not (isinstance(value, str) or value is None)]
    for (cell, key), text in zip(places, _json_texts([cell[key] for cell, key in places]), strict=True):
        cell[key] = text
    return cells


def _spreadsheet_safe(cell: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection): text starting
    with = + - @ tab or carriage return gets a leading apostrophe, which spreadsheets hide."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _cell(cell: Any) -> Any:
    return cell


async def csv_rows(rows: AsyncIterator[dict[str, Any]], columns: list[str],
                   spreadsheet_safe: bool) -> AsyncIterator[bytes]:
    """Cells exactly as the rows hold them, unless ``spreadsheet_safe`` (see ``_spreadsheet_safe``)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    guard = _spreadsheet_safe if spreadsheet_safe else _cell
    async for chunk in _chunks(rows):
        writer.writerows({key: guard(cell) for key, cell in row.items()} for row in _flat(chunk))
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


async def parquet(rows: AsyncIterator[dict[str, Any]], columns: Columns, metadata: dict[str, str],
                  final_metadata: Callable[[], dict[str, str]] | None = None) -> AsyncIterator[bytes]:
    """One row group per chunk, with the columns' declared types (``JSON`` columns as JSON
    text). The footer also gets ``final_metadata()``: figures known only at the end."""
    import pyarrow.parquet as pq

    schema = arrow_schema(columns, metadata)
    sink = _Drain()
    writer = pq.ParquetWriter(sink, schema, use_dictionary=_dictionary_columns(schema))
    async for chunk in _chunks(rows):
        writer.write_table(arrow_table([flat_json(row, columns) for row in chunk], columns, schema))
        yield sink.take()
    if final_metadata is not None:
        writer.add_key_value_metadata(final_metadata())
    writer.close()
    yield sink.take()


def _dictionary_columns(schema: Any) -> list[str]:
    """Every column but float32 ones (embeddings) gets dictionary encoding: tried on an
    embedding's values, which seldom repeat, it cost 0.37 s per 10,000 rows of 384 values and
    left the file 1.6 times larger (it gives up on them, after building the dictionary)."""
    import pyarrow.parquet as pq

    empty = io.BytesIO()
    pq.ParquetWriter(empty, schema).close()
    leaves = pq.read_metadata(io.BytesIO(empty.getvalue())).schema
    return [leaves.column(i).path for i in range(len(leaves)) if leaves.column(i).physical_type != "FLOAT"]


class _Drain(io.RawIOBase):
    """A write-only file that hands over what was written since the last ``take``."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data
