"""Records from pandas DataFrames and Hugging Face datasets, and rows or records back as a
DataFrame. pandas and datasets are optional: imported only when these functions run.

Columns map by name: ``fields=["prompt"]`` takes the ``prompt`` column for the ``prompt``
field, ``fields={"prompt": "question"}`` the ``question`` column. Values stay as the frame holds
them (numpy scalars, NaN): ``FeedbackDataset.add_records`` converts or refuses them record by
record (values.py).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from feedbackql.records import Record, RemoteRecord, Suggestion

Columns = Sequence[str] | Mapping[str, str]


def records_from_rows(rows: Iterable[Mapping[str, Any]], *, fields: Columns, metadata: Columns = (),
                      suggestions: Mapping[str, str] | None = None, external_id: str | None = None,
                      vectors: Columns = ()) -> list[Record]:
    """A ``Record`` per row; ``suggestions`` maps a question to the column of its suggested value,
    ``vectors`` a vector space to the column of its embeddings (a list, a numpy array or a
    ``datasets`` fixed-size list; a missing one, None or NaN, is left out)."""
    field_columns, metadata_columns, suggested = _named(fields), _named(metadata), dict(suggestions or {})
    vector_columns = _named(vectors)
    return [Record(fields={name: row.get(column) for name, column in field_columns.items()},
                   metadata={name: row.get(column) for name, column in metadata_columns.items()} or None,
                   suggestions=[Suggestion(question, row.get(column)) for question, column in suggested.items()],
                   external_id=row.get(external_id) if external_id else None,
                   vectors={space: row[column] for space, column in vector_columns.items()
                            if not _missing(row.get(column))})
            for row in rows]


def _missing(value: Any) -> bool:
    """None, or the NaN pandas puts where a row has no value."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def records_from_pandas(frame: Any, **columns: Any) -> list[Record]:
    """Records from a pandas DataFrame's rows (the options of ``records_from_rows``)."""
    return records_from_rows(frame.to_dict("records"), **columns)


def records_from_datasets(table: Any, **columns: Any) -> list[Record]:
    """Records from a Hugging Face ``datasets.Dataset`` (the options of ``records_from_rows``)."""
    return records_from_rows(iter(table), **columns)


def to_pandas(items: Iterable[Mapping[str, Any] | RemoteRecord]) -> Any:
    """Training rows (dicts) or records as a pandas DataFrame; a record becomes a row with its
    id, external id, status, ``fields``, ``metadata``, ``suggestions`` and ``responses``."""
    try:
        import pandas
    except ImportError:
        raise ImportError("to_pandas needs pandas: pip install pandas") from None
    return pandas.DataFrame([_row(item) for item in items])


def _row(item: Mapping[str, Any] | RemoteRecord) -> dict[str, Any]:
    return dataclasses.asdict(item) if isinstance(item, RemoteRecord) else dict(item)


def _named(columns: Columns) -> dict[str, str]:
    return dict(columns) if isinstance(columns, Mapping) else {name: name for name in columns}
