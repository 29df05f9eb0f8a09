"""Real-looking texts and embeddings for the vector benchmarks, without a model (no download is
possible here) and without scikit-learn or scipy (not dependencies): texts drawn from topics
(Zipf-distributed words of a made-up vocabulary), weighted by TF-IDF, and reduced to 384
dimensions by a truncated SVD (randomized, one power iteration: Halko, Martinsson and Tropp
2011), the classic latent semantic analysis. Each text holds ``WORDS_PER_TEXT`` word ids, so the
sparse TF-IDF matrix is kept as (word ids, weights) rows and multiplied in chunks with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

Matrix = np.ndarray[Any, np.dtype[np.float32]]
Words = np.ndarray[Any, np.dtype[np.int64]]
DIMENSION = 384
VOCABULARY = 20_000
TOPICS = 200
TOPIC_WORDS = 2_000
WORDS_PER_TEXT = 40
OVERSAMPLING = 16
CHUNK_ROWS = 2_000
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "do", "gu", "fe", "ri", "ho", "ba",
             "ko", "li", "mu", "te", "ya", "wi", "no", "se"]


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    vectors: Matrix
    """One unit-length row per text."""


def _words(records: int, rng: np.random.Generator) -> Words:
    zipf = 1.0 / np.arange(1, TOPIC_WORDS + 1)
    topic_words = np.stack([rng.permutation(VOCABULARY)[:TOPIC_WORDS] for _ in range(TOPICS)])
    topics = rng.integers(0, TOPICS, size=(records, 2))
    picks = rng.choice(TOPIC_WORDS, size=(records, WORDS_PER_TEXT), p=zipf / zipf.sum())
    mine = rng.random((records, WORDS_PER_TEXT)) < 0.7
    return np.where(mine, topic_words[topics[:, :1], picks], topic_words[topics[:, 1:], picks]).astype(np.int64)


def _tfidf_weights(words: Words) -> Matrix:
    """Each occurrence weighted by its word's IDF (repeated words add up: term frequency),
    rows scaled to about unit length."""
    records = len(words)
    present = np.unique(words + np.arange(records)[:, None] * VOCABULARY) % VOCABULARY
    idf = np.log((1 + records) / (1 + np.bincount(present, minlength=VOCABULARY))).astype(np.float32) + 1
    weights = idf[words]
    return (weights / np.linalg.norm(weights, axis=1, keepdims=True)).astype(np.float32)


def _times(words: Words, weights: Matrix, right: Matrix) -> Matrix:
    """The TF-IDF matrix times ``right`` (vocabulary x k)."""
    out = np.empty((len(words), right.shape[1]), dtype=np.float32)
    for start in range(0, len(words), CHUNK_ROWS):
        chunk = slice(start, start + CHUNK_ROWS)
        out[chunk] = np.einsum("rw,rwk->rk", weights[chunk], right[words[chunk]])
    return out


def _transposed_times(words: Words, weights: Matrix, left: Matrix) -> Matrix:
    """The TF-IDF matrix transposed times ``left`` (records x k): occurrences sorted by word,
    summed a chunk at a time."""
    order = np.argsort(words.ravel(), kind="stable")
    sorted_words, rows = words.ravel()[order], order // WORDS_PER_TEXT
    sorted_weights = weights.ravel()[order]
    out = np.zeros((VOCABULARY, left.shape[1]), dtype=np.float32)
    step = CHUNK_ROWS * WORDS_PER_TEXT
    for start in range(0, len(order), step):
        chunk = slice(start, start + step)
        chunk_words = sorted_words[chunk]
        firsts = np.flatnonzero(np.r_[True, chunk_words[1:] != chunk_words[:-1]])
        sums = np.add.reduceat(left[rows[chunk]] * sorted_weights[chunk, None], firsts, axis=0)
        out[chunk_words[firsts]] += sums
    return out


def _top_directions(words: Words, weights: Matrix, rng: np.random.Generator) -> Matrix:
    """The ``DIMENSION`` top right singular vectors (vocabulary x DIMENSION), randomized."""
    probe = rng.normal(size=(VOCABULARY, DIMENSION + OVERSAMPLING)).astype(np.float32)
    basis, _ = np.linalg.qr(_times(words, weights, probe))
    basis, _ = np.linalg.qr(_transposed_times(words, weights, basis))  # the power iteration
    basis, _ = np.linalg.qr(_times(words, weights, basis))
    small = _transposed_times(words, weights, basis).T  # (DIMENSION + OVERSAMPLING) x vocabulary
    _, _, directions = np.linalg.svd(small, full_matrices=False)
    return np.ascontiguousarray(directions[:DIMENSION].T, dtype=np.float32)


def corpus(records: int, seed: int = 1) -> Corpus:
    rng = np.random.default_rng(seed)
    words = _words(records, rng)
    weights = _tfidf_weights(words)
    vectors = _times(words, weights, _top_directions(words, weights, rng))
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    spelled = [SYLLABLES[i % 24] + SYLLABLES[i // 24 % 24] + SYLLABLES[i // 576 % 24] for i in range(VOCABULARY)]
    texts = [" ".join(spelled[w] for w in row) for row in words.tolist()]
    return Corpus(texts, vectors.astype(np.float32))
