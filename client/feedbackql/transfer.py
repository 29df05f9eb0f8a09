"""``feedbackql export`` and ``feedbackql import``: moving data to and from a running service
over its HTTP API (the same endpoints, keys and rules as any other client)."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from tqdm import tqdm

from feedbackql.batches import batches, json_size
from feedbackql.client import Client
from feedbackql.errors import ValidationError
from feedbackql.vectors import vector_text

BATCH = 500
DATASET = """query($id: ID!) { dataset(id: $id) { fields { name kind } questions { name kind }
  metadataProperties { name } } }"""
ADD = """mutation($id: ID!, $records: [RecordInput!]!) {
  addRecords(datasetId: $id, records: $records) {
    created updated unchanged responses errors { index code message } } }"""
EXPORTED = frozenset({"fields", "suggestions", "responses"})
"""Columns of the record export (``feedbackql export``): a file with them is read in that shape."""


class TransferError(Exception):
    """A problem the person running the command can fix (reported without a traceback)."""


def connect(url: str | None, api_key: str | None) -> Client:
    """The SDK's client for the command line's options (or FEEDBACKQL_URL / FEEDBACKQL_API_KEY)."""
    key = api_key or os.environ.get("FEEDBACKQL_API_KEY")
    if not key:
        raise TransferError("give --api-key or set FEEDBACKQL_API_KEY")
    base = url or os.environ.get("FEEDBACKQL_URL", "http://127.0.0.1:8000")
    return Client(base, key, timeout=120)


def export(client: Client, dataset_id: str, output: BinaryIO, *, task: str | None = None,
           file_format: str = "jsonl", options: dict[str, str] | None = None) -> int:
    """Stream an export into ``output``; the number of bytes written."""
    path = f"/datasets/{dataset_id}/training/{task}" if task else f"/datasets/{dataset_id}/export"
    params = {"format": file_format, **(options or {})}
    written = 0
    with tqdm(unit="B", unit_scale=True, desc="export", file=sys.stderr) as progress:
        for chunk in client.download(path, params):
            output.write(chunk)
            written += len(chunk)
            progress.update(len(chunk))
    return written


@dataclass
class Mapping:
    """Which source columns become which parts of a record."""

    fields: dict[str, str] = field(default_factory=dict)  # field name -> column
    metadata: list[str] = field(default_factory=list)
    external_id: str | None = None
    suggestions: dict[str, str] = field(default_factory=dict)  # question -> column
    vectors: dict[str, str] = field(default_factory=dict)  # vector space -> column


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    responses: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line or row number, reason)
    answered_through: int = 0
    """The last line or row whose batch the service answered."""
    sending: tuple[int, int] | None = None
    """The lines of the batch on its way when the import was interrupted (None: none was):
    the service may or may not have taken it."""
    sending_unkeyed: bool = False
    """Whether some record of that batch had no external id (so a re-import would add it again)."""
    interrupted: bool = False


def count_rows(path: Path) -> int | None:
    """How many rows ``path`` holds, for the progress bar: cheap where the format says (Parquet,
    a datasets folder), one pass over the file otherwise; None when it cannot tell."""
    suffix = path.suffix.lower()
    try:
        if path.is_dir():
            return int(hugging_face().load_from_disk(str(path)).num_rows)
        if suffix in (".jsonl", ".ndjson", ".json"):
            with path.open("rb") as lines:
                return sum(1 for line in lines if line.strip())
        if suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as handle:
                return sum(1 for _ in csv.DictReader(handle))
        if suffix == ".parquet":
            import pyarrow.parquet as pq
            return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, ValueError, ImportError, TransferError, csv.Error):
        return None  # read_rows reports the problem
    return None


def hugging_face() -> Any:
    """The ``datasets`` package, kept off the network (only local folders are read or written)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import datasets
    except ImportError:
        raise TransferError("datasets folders need: pip install 'feedbackql[datasets]'") from None
    return datasets


def save_parquet_as_datasets_folder(parquet: bytes, folder: Path) -> int:
    """Write a Parquet export as a ``datasets`` folder with the same Arrow schema (a chat stays
    a list of ``{role, content}`` structs, a rating a float); the row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(pa.BufferReader(parquet))
    dataset = hugging_face().Dataset(table.replace_schema_metadata(None))
    dataset.save_to_disk(str(folder))
    return int(dataset.num_rows)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, row) pairs; a row that cannot be read is its reason instead."""
    suffix = path.suffix.lower()
    if path.is_dir():
        for number, row in enumerate(hugging_face().load_from_disk(str(path)), start=1):
            yield number, dict(row)
    elif suffix in (".jsonl", ".ndjson", ".json"):
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, f"not valid JSON ({exc.msg})"
                    continue
                yield number, row if isinstance(row, dict) else "not a JSON object"
    elif suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                yield reader.line_num, {k: _cell(v) for k, v in row.items() if k is not None}
    elif suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise TransferError("Parquet needs pyarrow: pip install pyarrow") from None
        number = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH):
            for row in batch.to_pylist():
                number += 1
                yield number, row
    else:
        raise TransferError(f"{path.name}: use a .jsonl, .csv or .parquet file or a datasets folder")


def _cell(value: str | None) -> Any:
    """CSV cells are text; JSON objects and lists in them are decoded (a chat, a ranking)."""
    if value and value[0] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _number_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def default_mapping(dataset: dict[str, Any], columns: Sequence[str], given: Mapping) -> Mapping:
    """Columns named like the dataset's fields and metadata properties map to them, unless
    the command maps them explicitly; ``external_id`` is the external id when present."""
    return Mapping(
        fields=given.fields or {f["name"]: f["name"] for f in dataset["fields"] if f["name"] in columns},
        metadata=given.metadata or [p["name"] for p in dataset["metadataProperties"] if p["name"] in columns],
        external_id=given.external_id or ("external_id" if "external_id" in columns else None),
        suggestions=given.suggestions,
        vectors=given.vectors,
    )


def to_record(row: dict[str, Any], mapping: Mapping, question_kinds: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {"fields": {name: row.get(column) for name, column in mapping.fields.items()}}
    if mapping.metadata:
        record["metadata"] = {name: _number_or_text(row.get(name)) for name in mapping.metadata
                              if row.get(name) not in (None, "")}
    if mapping.external_id and row.get(mapping.external_id) not in (None, ""):
        record["externalId"] = str(row[mapping.external_id])
    suggestions = [{"question": question, "value": {question_kinds[question]: _number_or_text(row[column])}}
                   for question, column in mapping.suggestions.items() if row.get(column) not in (None, "")]
    if suggestions:
        record["suggestions"] = suggestions
    vectors = {space: vector_text(_number_or_text(row[column]), ["vectors", space])
               for space, column in mapping.vectors.items() if row.get(column) not in (None, "")}
    if vectors:
        record["vectors"] = vectors
    return record


def _is_export(row: dict[str, Any], dataset: dict[str, Any]) -> bool:
    """A row of the record export: its columns, and no field of the dataset named like them."""
    return set(row) >= EXPORTED and not EXPORTED & {f["name"] for f in dataset["fields"]}


def exported_record(row: dict[str, Any], question_kinds: dict[str, str]) -> dict[str, Any]:
    """A row of the record export (JSONL, Parquet, CSV or a datasets folder) as the
    ``RecordInput`` that makes the same row again: values are typed by their question's kind,
    responses go in by username, vectors by space name (a value that is not a finite number
    refuses the row here: JSON cannot carry it); ids, timestamps and the status are the new
    dataset's own."""
    record: dict[str, Any] = {"fields": _decoded(row.get("fields")) or {},
                              "metadata": _decoded(row.get("metadata")) or {}}
    if row.get("external_id") not in (None, ""):
        record["externalId"] = str(row["external_id"])
    record["suggestions"] = [
        {"question": s["question"], "value": _typed(question_kinds, s["question"], s["value"]),
         "score": s.get("score"), "agent": s.get("agent")}
        for s in _decoded(row.get("suggestions")) or [] if s.get("value") is not None]
    record["responses"] = [
        {"user": r["user"], "status": str(r["status"]).upper(),
         "values": [{"question": q, "value": _typed(question_kinds, q, v)}
                    for q, v in (_decoded(r.get("values")) or {}).items() if v is not None]}
        for r in _decoded(row.get("responses")) or []]
    vectors = {name: vector_text(values, ["vectors", name])
               for name, values in (_decoded(row.get("vectors")) or {}).items() if values is not None}
    if vectors:
        record["vectors"] = vectors
    return record


def _decoded(value: Any) -> Any:
    """Parquet and CSV cells hold the export's objects and lists as JSON text."""
    return json.loads(value) if isinstance(value, str) and value[:1] in ("[", "{") else value


def _typed(question_kinds: dict[str, str], question: str, value: Any) -> dict[str, Any]:
    kind = question_kinds.get(question)
    if kind is None:
        raise TransferError(f"the dataset has no question {question!r}: import into a dataset with the same settings")
    return {kind: value}


def import_file(client: Client, dataset_id: str, path: Path, given: Mapping) -> ImportReport:
    """Add the rows of ``path`` in batches. Ctrl-C stops the import between or during batches
    and returns the report so far (``interrupted``), so the command can say what went in."""
    dataset = client.execute(DATASET, {"id": dataset_id})["dataset"]
    kinds = {q["name"]: q["kind"] for q in dataset["questions"]}
    unknown = [q for q in given.suggestions if q not in kinds]
    if unknown:
        raise TransferError(f"the dataset has no question(s) {unknown}")
    report = ImportReport()
    with tqdm(total=count_rows(path), unit="rows", desc="import", file=sys.stderr) as progress:
        try:
            _import_rows(client, dataset_id, path, given, dataset, kinds, report, progress)
        except KeyboardInterrupt:
            report.interrupted = True
    return report


def _import_rows(client: Client, dataset_id: str, path: Path, given: Mapping, dataset: dict[str, Any],
                 kinds: dict[str, str], report: ImportReport, progress: tqdm[Any]) -> None:
    for batch in batches(_records(path, given, dataset, kinds, report, progress), BATCH,
                         lambda numbered: json_size(numbered[1])):
        _send_batch(client, dataset_id, batch, report)


def _records(path: Path, given: Mapping, dataset: dict[str, Any], kinds: dict[str, str], report: ImportReport,
             progress: tqdm[Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The file's records with their line numbers; bad rows go to the report."""
    mapping: Mapping | None = None
    for number, row in read_rows(path):
        progress.update(1)
        if isinstance(row, str):
            report.errors.append((number, row))
            continue
        mapping = mapping or default_mapping(dataset, list(row), given)
        try:
            record = exported_record(row, kinds) if _is_export(row, dataset) else to_record(row, mapping, kinds)
        except (TransferError, ValidationError) as exc:
            report.errors.append((number, str(exc)))
            continue
        yield number, record


def _send_batch(client: Client, dataset_id: str, batch: list[tuple[int, dict[str, Any]]],
                report: ImportReport) -> None:
    report.sending = (batch[0][0], batch[-1][0])
    report.sending_unkeyed = any("externalId" not in record for _number, record in batch)
    _send(client, dataset_id, batch, report)
    report.sending = None
    report.answered_through = batch[-1][0]


def _send(client: Client, dataset_id: str, batch: list[tuple[int, dict[str, Any]]],
          report: ImportReport) -> None:
    """One addRecords call; when the call as a whole is refused (a value of the wrong type
    for its GraphQL input), the rows go one by one so that only the bad ones are lost."""
    try:
        result = client.execute(ADD, {"id": dataset_id, "records": [record for _, record in batch]})
    except ValidationError as exc:
        if len(batch) == 1:
            report.errors.append((batch[0][0], str(exc)))
            return
        for single in batch:
            _send(client, dataset_id, [single], report)
        return
    added = result["addRecords"]
    report.created += added["created"]
    report.updated += added["updated"]
    report.unchanged += added["unchanged"]
    report.responses += added["responses"]
    report.errors.extend((batch[e["index"]][0], e["message"]) for e in added["errors"])
