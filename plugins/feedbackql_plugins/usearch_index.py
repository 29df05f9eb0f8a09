"""The built-in approximate vector index: usearch's HNSW graph.

Why usearch: one self-contained wheel (no BLAS, no compiler, no GPU stack as faiss brings), an
index that saves to and loads from one file, removal and replacement of keys (hnswlib only
marks deletions), half-precision storage (``f16``: the index stays within the memory budget of
``docs/vectors.md``), and releases every few weeks under the Unum Cloud organisation.

Half precision only for cosine spaces, whose rows come normalized (every value within ±1, where
f16 keeps about three digits): dot and L2 rows keep their magnitudes, which f16 cannot hold (its
largest value is 65,504 and it loses values under 6e-8), so they are stored as f32. With f16, dot
spaces of values around 1e5 or 1e-6 found a fifth of the exact top 10.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
from usearch.index import Index

from feedbackql_server.kinds import hookimpl
from feedbackql_server.kinds.vector_indexes import ApproximateIndex, Keys, Rows

METRICS = {"cosine": "ip", "dot": "ip", "l2": "l2sq"}
"""Cosine rows come normalized, so an inner product ranks them."""
STORED_AS = {"cosine": "f16", "dot": "f32", "l2": "f32"}


class UsearchIndex(ApproximateIndex):
    name: ClassVar[str] = "usearch"

    def __init__(self, dimension: int, metric: str) -> None:
        super().__init__(dimension, metric)
        # Measured on 100,000 TF-IDF + SVD vectors of 384 dimensions (bench/vectors_server.py):
        # connectivity 16 found 0.88 of the exact top 10; 24 (and a wider beam when adding)
        # finds 0.97 at expansion 96, 0.99 at 256, for about 0.04x the raw bytes more in memory.
        self.index = Index(ndim=dimension, metric=METRICS[metric], dtype=STORED_AS[metric],
                           connectivity=24, expansion_add=200, expansion_search=128)

    def add(self, keys: Keys, rows: Rows) -> None:
        present = np.asarray([key for key in keys.tolist() if self.index.contains(key)], dtype=np.int64)
        if present.size:
            self.index.remove(present)
        if keys.size:
            self.index.add(keys.astype(np.uint64), rows)

    def search(self, query: Rows, count: int) -> Keys:
        if len(self.index) == 0:
            return np.zeros(0, dtype=np.int64)
        matches = self.index.search(query, min(count, len(self.index)))
        return np.asarray(matches.keys, dtype=np.int64)

    def save(self, path: Path) -> None:
        self.index.save(str(path))

    def load(self, path: Path) -> None:
        self.index.load(str(path))
        if self.index.ndim != self.dimension:
            raise ValueError(f"saved index has dimension {self.index.ndim}, not {self.dimension}")
        if str(self.index.dtype).rsplit(".", 1)[-1].lower() != STORED_AS[self.metric]:  # saved by an older version
            raise ValueError(f"saved index stores {self.index.dtype}, not {STORED_AS[self.metric]}")

    def __len__(self) -> int:
        return len(self.index)

    def memory_bytes(self) -> int:
        return int(self.index.memory_usage)


@hookimpl
def feedbackql_vector_indexes() -> list[type[ApproximateIndex]]:
    return [UsearchIndex]
