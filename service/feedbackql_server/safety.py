"""Checks that user data can be stored as-is by both MongoDB and FerretDB.

FerretDB refuses nested arrays, keys containing '.' or starting with '$', NaN/Infinity and NUL
characters; BSON integers are 64-bit and BSON strings UTF-8 (JSON can carry lone surrogates,
which have none). Such data is refused up front as ``VALIDATION``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from feedbackql_server.errors import Invalid

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_DEPTH = 20


def check_storable(value: Any, path: Sequence[str | int] = ()) -> None:
    """Raise ``Invalid`` (with the path of the first offending part) if ``value`` can't be stored."""
    _check(value, list(path), in_array=False, depth=0)


def check_text(text: str, path: Sequence[str | int]) -> None:
    if "\x00" in text:
        raise Invalid("text must not contain NUL characters", path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid("text must be valid Unicode (no lone surrogates)", path) from None


def _check(value: Any, path: list[str | int], *, in_array: bool, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise Invalid(f"data is nested more than {MAX_DEPTH} levels deep", path)
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        check_text(value, path)
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise Invalid("integers must fit in 64 bits", path)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise Invalid("numbers must be finite (no NaN or Infinity)", path)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_key(key, path)
            _check(item, [*path, key], in_array=False, depth=depth + 1)
    elif isinstance(value, list):
        if in_array:
            raise Invalid("arrays must not directly contain arrays", path)
        for index, item in enumerate(value):
            _check(item, [*path, index], in_array=True, depth=depth + 1)
    else:
        raise Invalid(f"unsupported value of type {type(value).__name__}", path)


def _check_key(key: Any, path: list[str | int]) -> None:
    if not isinstance(key, str):
        raise Invalid("object keys must be strings", path)
    if not key:
        raise Invalid("object keys must not be empty", path)
    if "." in key or key.startswith("$"):
        raise Invalid(f"key {key!r} must not contain '.' or start with '$'", path)
    check_text(key, path)
