"""float32 vectors as short JSON numbers that read back to the same float32, made for many
vectors at once.

``float(x)`` of a float32 is exact, but its repr takes up to 17 digits (0.1f is
0.10000000149011612), and ``json`` formats each of them in turn: in the record export of
10,000 records with a 384-dimension vector that formatting took most of the time. Each value
is written instead as the shortest decimal that reads back to the same float32 (at most 9
significant digits, 0.1f is 0.1), formatted in C++ by Arrow's float32 to string cast for
every value of a chunk at once. Without pyarrow (an optional extra), numpy rounds every value
to 6, 7, 8 then 9 significant digits and keeps the first that reads back; ``json`` writes it.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

DIGITS = (6, 7, 8, 9)
Float32s = np.ndarray[Any, np.dtype[np.float32]]
Float64s = np.ndarray[Any, np.dtype[np.float64]]


def json_lists(vectors: list[Float32s]) -> list[str]:
    """Each 1-D float32 array as JSON list text: ``[0.1,-2.5e-7,3.0]``."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return [json.dumps(json_numbers(vector), separators=(",", ":")) for vector in vectors]
    return _arrow_lists(vectors)


def _arrow_lists(vectors: list[Float32s]) -> list[str]:
    import pyarrow as pa
    import pyarrow.compute as pc

    flat = np.concatenate(vectors) if vectors else np.zeros(0, np.float32)
    texts = pa.array(flat, pa.float32()).cast(pa.string())  # shortest that reads back (C++)
    integral = np.flatnonzero(np.trunc(flat) == flat)
    if integral.size:  # "3" and "-0" would read back as integers: "3.0", "-0.0"
        fixed = [text if "e" in text or "." in text else text + ".0"
                 for text in texts.take(pa.array(integral)).to_pylist()]
        mask = np.zeros(len(flat), dtype=bool)
        mask[integral] = True
        texts = pc.replace_with_mask(texts, pa.array(mask), pa.array(fixed, pa.string()))
    offsets = np.zeros(len(vectors) + 1, dtype=np.int32)
    np.cumsum([len(vector) for vector in vectors], out=offsets[1:])
    joined: list[str] = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), texts), ",").to_pylist()
    return ["[" + text + "]" for text in joined]


def short_float64(values: Float32s) -> Float64s:
    """``values`` (any shape) as float64s whose reprs are short and read back to them: the
    rounded value is checked on exactly what is written (a value no rounding fits stays
    exact, and ``float(x)`` always reads back)."""
    exact = values.astype(np.float64)
    chosen = exact.copy()
    pending = np.isfinite(exact) & (exact != 0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(np.abs(np.where(pending, exact, 1.0))))
        for digits in DIGITS:
            if not pending.any():
                break
            scale = 10.0 ** (digits - 1 - exponent)
            rounded = np.round(exact * scale) / scale
            fits = pending & (rounded.astype(np.float32) == values)
            chosen[fits] = rounded[fits]
            pending &= ~fits
    return chosen


def json_numbers(values: Float32s) -> list[Any]:
    """``values`` as (nested) lists of Python floats, ready for ``json.dumps``."""
    listed: list[Any] = short_float64(values).tolist()
    return listed
