"""Vector search at scale, measured side by side in one run: the exact search (numpy over the
whole space) against the approximate index (the built-in usearch plugin), p50/p95 of a top-10
query and recall@10 against the exact answer, unfiltered and with a filter that keeps 1%.

The vectors look like real ones: synthetic texts drawn from topics (Zipf-distributed words),
weighted by TF-IDF and projected to 384 dimensions by a random projection (no model download is
possible here, and scikit-learn is not a dependency). Run:

    .venv-test/bin/python -m bench.vectors --records 100000
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from feedbackql_plugins.usearch_index import UsearchIndex
from feedbackql_server.domain.vector_index import normalized

Matrix = np.ndarray[Any, np.dtype[np.float32]]
DIMENSION = 384
VOCABULARY = 20_000
TOPICS = 200
WORDS_PER_TEXT = 40


def embeddings(records: int, seed: int = 1) -> Matrix:
    """TF-IDF of topic-drawn texts, randomly projected to ``DIMENSION`` (cosine-ready)."""
    rng = np.random.default_rng(seed)
    zipf = 1.0 / np.arange(1, VOCABULARY + 1)
    topic_words = np.stack([rng.permutation(VOCABULARY)[:2_000] for _ in range(TOPICS)])
    topic_weights = zipf[:2_000] / zipf[:2_000].sum()
    projection = rng.normal(size=(VOCABULARY, DIMENSION)).astype(np.float32)
    topics = rng.integers(0, TOPICS, size=(records, 2))
    picks = rng.choice(2_000, size=(records, WORDS_PER_TEXT), p=topic_weights)
    mine = rng.random((records, WORDS_PER_TEXT)) < 0.7
    words = np.where(mine, topic_words[topics[:, :1], picks], topic_words[topics[:, 1:], picks])
    document_frequency = np.bincount(np.unique(words + np.arange(records)[:, None] * VOCABULARY) % VOCABULARY,
                                     minlength=VOCABULARY)
    idf = np.log((1 + records) / (1 + document_frequency)).astype(np.float32) + 1
    vectors = np.zeros((records, DIMENSION), dtype=np.float32)
    for start in range(0, records, 10_000):
        chunk = words[start:start + 10_000]
        vectors[start:start + 10_000] = (projection[chunk] * idf[chunk][..., None]).sum(axis=1)
    return normalized(vectors)


def exact_top(matrix: Matrix, query: Matrix, k: int, allowed: np.ndarray[Any, Any] | None = None) -> list[int]:
    scores = matrix @ query
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    head = np.argpartition(-scores, k)[:k]
    return [int(i) for i in head[np.argsort(-scores[head])]]


def index_top(index: UsearchIndex, matrix: Matrix, query: Matrix, k: int,
              allowed: np.ndarray[Any, Any] | None = None) -> list[int]:
    """As ``domain/similar.py`` walks it: growing candidate lists until ``k`` pass the filter,
    re-ranked by exact score."""
    keys = index.search(query, max(32, 2 * k))
    kept = keys if allowed is None else keys[allowed[keys]]
    if len(kept) < k:  # the filter keeps few records near the query: ranked exactly, as the service does
        return exact_top(matrix, query, k, allowed)
    order = np.argsort(-(matrix[kept] @ query))
    return [int(i) for i in kept[order][:k]]


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def measure(name: str, matrix: Matrix, index: UsearchIndex, queries: Matrix,
            allowed: np.ndarray[Any, Any] | None) -> None:
    exact_times, index_times, recalls = [], [], []
    for query in queries:
        start = time.perf_counter()
        truth = exact_top(matrix, query, 10, allowed)
        exact_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        found = index_top(index, matrix, query, 10, allowed)
        index_times.append(time.perf_counter() - start)
        recalls.append(len(set(truth) & set(found)) / 10)
        if allowed is not None:
            assert len(found) == 10, "a filtered search came back short"
            assert all(allowed[i] for i in found), "a filtered search returned a record the filter excludes"
    exact_p50, exact_p95 = percentiles(exact_times)
    index_p50, index_p95 = percentiles(index_times)
    print(f"{name:<22} exact p50 {exact_p50:7.2f} ms  p95 {exact_p95:7.2f} ms | "
          f"index p50 {index_p50:6.2f} ms  p95 {index_p95:6.2f} ms | ratio {exact_p50 / index_p50:5.1f}x | "
          f"recall@10 {statistics.mean(recalls):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    start = time.perf_counter()
    matrix = embeddings(args.records)
    print(f"{args.records} vectors of {DIMENSION} dimensions made in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    index = UsearchIndex(DIMENSION, "cosine")
    index.add(np.arange(args.records, dtype=np.int64), matrix)
    raw = matrix.nbytes
    print(f"index built in {time.perf_counter() - start:.1f} s; memory {index.memory_bytes() / 1e6:.0f} MB "
          f"= {index.memory_bytes() / raw:.2f}x the raw float32 bytes ({raw / 1e6:.0f} MB)")
    rng = np.random.default_rng(2)
    queries = matrix[rng.choice(args.records, size=args.queries, replace=False)]
    measure("top-10", matrix, index, queries, None)
    one_percent = rng.random(args.records) < 0.01
    measure("top-10, 1% filter", matrix, index, queries, one_percent)


if __name__ == "__main__":
    main()
