"""The contract of an approximate vector index, registered through ``feedbackql_vector_indexes``.

The service keeps every vector space exactly (``domain/vector_index.py``): that copy gives the
scores, the exact search of small or heavily filtered sets, and the rows an approximate index
is built from. An approximate index only proposes candidates, nearest first, for large
spaces; it is kept in step by the service (``add``/``remove`` by integer key), saved to and
loaded from the data folder. The built-in one is ``feedbackql_plugins.usearch_index``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

Rows = np.ndarray[Any, np.dtype[np.float32]]
Keys = np.ndarray[Any, np.dtype[np.int64]]


class ApproximateIndex(ABC):
    """One vector space's approximate nearest-neighbour index, keyed by integers."""

    name: ClassVar[str]
    """Names the index in logs and in its saved file (``^[a-z][a-z0-9_]*$``)."""

    def __init__(self, dimension: int, metric: str) -> None:
        """``metric``: ``cosine`` (rows come normalized: an inner product will do), ``dot``
        or ``l2``."""
        self.dimension = dimension
        self.metric = metric

    @abstractmethod
    def add(self, keys: Keys, rows: Rows) -> None:
        """Add rows under ``keys``, replacing the rows of keys it has already."""

    @abstractmethod
    def search(self, query: Rows, count: int) -> Keys:
        """Up to ``count`` keys, nearest to ``query`` first."""

    @abstractmethod
    def save(self, path: Path) -> None:
        """Write the index to ``path`` (the service writes to a temporary name and renames)."""

    @abstractmethod
    def load(self, path: Path) -> None:
        """Read an index saved by ``save``; raise on a damaged file (the service then rebuilds)."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def memory_bytes(self) -> int:
        """What the index holds in memory."""
