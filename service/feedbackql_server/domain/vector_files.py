"""A vector space's copy saved in the data folder, so that a restart answers its first search
without reading every vector again or rebuilding the approximate index.

Per space, one folder: ``rows.npy`` (the exact rows), ``ids.bin`` (12 bytes per record id),
the approximate index's file when there is one, and ``meta.json`` written last, which names
the space, the vector sequence the files reflect and every file's size and CRC-32. Each file is
written under a temporary name and renamed: a crash mid-save leaves sizes that do not match the
meta (or no meta), and the space is then read again from the database and its index rebuilt. A
file changed in place keeps its size but not its CRC (rows swapped in ``rows.npy`` were used as
they were, and searches ranked by the wrong vectors: recall 0.28).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from bson import ObjectId

from feedbackql_server.domain.vectors import VectorSpace
from feedbackql_server.kinds.vector_indexes import ApproximateIndex

log = logging.getLogger("feedbackql_server.vectors")
CHUNK = 8 << 20
Matrix = np.ndarray[Any, np.dtype[np.float32]]


@dataclass
class SavedSpace:
    ids: list[ObjectId]
    matrix: Matrix
    seen: int
    approximate: ApproximateIndex | None


def folder_of(root: Path, dataset_id: ObjectId, space: VectorSpace) -> Path:
    return root / f"{dataset_id}-{space.key}"


def remove(root: Path, dataset_id: ObjectId, space_key: str | None = None) -> None:
    """The saved copies of a dataset's spaces (or of one of them): the dataset or space is gone."""
    pattern = f"{dataset_id}-{space_key}" if space_key is not None else f"{dataset_id}-*"
    for folder in root.glob(pattern):
        shutil.rmtree(folder, ignore_errors=True)


def saved_datasets(root: Path) -> set[ObjectId]:
    """The datasets with a saved space in ``root``."""
    names = (path.name.partition("-")[0] for path in root.glob("*-*")) if root.is_dir() else ()
    return {ObjectId(name) for name in names if ObjectId.is_valid(name)}


def _write(path: Path, write: Any) -> int:
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    os.replace(temporary, path)
    return path.stat().st_size


def _crc(path: Path) -> int:
    """The file's CRC-32, read a chunk at a time (about 0.1 s for 150 MB)."""
    total = 0
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            total = zlib.crc32(chunk, total)
    return total


def save(folder: Path, space: VectorSpace, saved: SavedSpace) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").unlink(missing_ok=True)  # until every file is in place
    sizes = {
        "rows.npy": _write(folder / "rows.npy", lambda p: _save_rows(p, saved.matrix)),
        "ids.bin": _write(folder / "ids.bin", lambda p: p.write_bytes(b"".join(i.binary for i in saved.ids))),
    }
    index_name = None
    if saved.approximate is not None:
        index_name = saved.approximate.name
        sizes["index"] = _write(folder / "index", lambda p: saved.approximate.save(p) if saved.approximate else None)
    meta = {"name": space.name, "key": space.key, "dimension": space.dimension, "metric": space.metric,
            "seen": saved.seen, "count": len(saved.ids), "index": index_name, "sizes": sizes,
            "crc32": {name: _crc(folder / name) for name in sizes}}
    _write(folder / "meta.json", lambda p: p.write_text(json.dumps(meta)))


def _save_rows(path: Path, matrix: Matrix) -> None:
    with path.open("wb") as out:
        np.save(out, matrix)


def load(folder: Path, space: VectorSpace, approximate: type[ApproximateIndex] | None) -> SavedSpace | None:
    """The saved copy, or None when there is none or it is damaged or of another space."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        log.warning("vector space %s: its saved meta is damaged; reading it from the database", space.name)
        return None
    try:
        return _load_checked(folder, space, approximate, meta)
    except Exception as exc:  # a damaged file of any kind: read it again from the database
        log.warning("vector space %s: its saved copy cannot be used (%s); reading it from the database",
                    space.name, exc)
        return None


def _load_checked(folder: Path, space: VectorSpace, approximate: type[ApproximateIndex] | None,
                  meta: dict[str, Any]) -> SavedSpace | None:
    if (meta["key"], meta["dimension"], meta["metric"]) != (space.key, space.dimension, space.metric):
        return None
    for name, size in meta["sizes"].items():
        if (folder / name).stat().st_size != size:
            raise ValueError(f"{name} is {(folder / name).stat().st_size} bytes, not {size} (a save cut short?)")
        if _crc(folder / name) != meta.get("crc32", {}).get(name):  # none: saved by an older version
            raise ValueError(f"{name} is not the file saved (its CRC-32 differs)")
    matrix = np.load(folder / "rows.npy").astype(np.float32, copy=False)
    raw = (folder / "ids.bin").read_bytes()
    ids = [ObjectId(raw[at:at + 12]) for at in range(0, len(raw), 12)]
    if matrix.shape != (meta["count"], space.dimension) or len(ids) != meta["count"]:
        raise ValueError("rows and ids do not match the meta")
    index = None
    if approximate is not None and meta["index"] == approximate.name:
        index = approximate(space.dimension, space.metric)
        index.load(folder / "index")
        if len(index) != len(ids):
            raise ValueError("the approximate index does not hold every row")
    return SavedSpace(ids, matrix, int(meta["seen"]), index)
