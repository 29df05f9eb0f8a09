"""Values as people hold them (numpy scalars and arrays, pandas missing values, dates) made
plain JSON before they are sent, or refused with the place and the reason.

A DataFrame row gives ``np.int64``, ``np.float32``, ``np.bool_``, arrays, ``NaN`` for a missing
number, ``pd.NA`` or ``NaT`` for others. JSON has none of these: sent as they are, one value
stopped a whole load half way (``TypeError: Object of type int64 is not JSON serializable``).
Here each becomes its plain counterpart, a missing value becomes ``MISSING`` (the caller drops
it, or sends null where null means "none"), and what has no JSON form raises ``ValidationError``
naming its path, so that only its record is refused. numpy and pandas are never imported: their
types are recognised by name, so the SDK needs neither.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from typing import Any

from feedbackql.errors import ValidationError

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
"""A missing value (``None``, ``NaN``, ``pd.NA``, ``NaT``)."""
MISSING_TYPES = frozenset({"NAType", "NaTType"})


def plain(value: Any, path: Sequence[str | int] = ()) -> Any:
    """``value`` as plain JSON (``MISSING`` for a missing value); ``ValidationError`` for what
    JSON cannot hold. Missing values inside a list or a mapping become null."""
    if value is None or type(value).__name__ in MISSING_TYPES:
        return MISSING
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)  # np.str_ is a str
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _number(float(value), path)  # np.float64 is a float
    if _numpy(value):
        return _from_numpy(value, path)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()  # pandas' Timestamp is a datetime
    if isinstance(value, Mapping):
        return {_key(key, path): _inner(item, [*path, str(key)]) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_inner(item, [*path, index]) for index, item in enumerate(value)]
    raise ValidationError(f"{_where(path)}a {type(value).__name__} has no JSON form; give a number, "
                          "text, a list or a mapping", path, {"reason": "not_json"})


def plain_mapping(values: Mapping[str, Any] | None, path: Sequence[str | int]) -> dict[str, Any] | None:
    """A mapping (metadata) with its missing values left out."""
    if values is None:
        return None
    converted = {_key(key, path): plain(item, [*path, str(key)]) for key, item in values.items()}
    return {key: item for key, item in converted.items() if item is not MISSING}


def _inner(value: Any, path: Sequence[str | int]) -> Any:
    converted = plain(value, path)
    return None if converted is MISSING else converted


def _number(value: float, path: Sequence[str | int]) -> Any:
    if math.isnan(value):
        return MISSING
    if math.isinf(value):
        raise ValidationError(f"{_where(path)}infinity has no JSON form", path, {"reason": "not_finite"})
    return value


def _numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy"


def _from_numpy(value: Any, path: Sequence[str | int]) -> Any:
    if hasattr(value, "tolist") and getattr(value, "ndim", 0) > 0:
        return plain(value.tolist(), path)  # an array: its items, in lists
    if hasattr(value, "item"):
        return plain(value.item(), path)  # a scalar: int, float, bool, str, datetime
    raise ValidationError(f"{_where(path)}a numpy {type(value).__name__} has no JSON form", path,
                          {"reason": "not_json"})


def _key(key: Any, path: Sequence[str | int]) -> str:
    if isinstance(key, str):
        return str(key)
    raise ValidationError(f"{_where(path)}keys are text, not {type(key).__name__} ({key!r})", path,
                          {"reason": "not_json"})


def _where(path: Sequence[str | int]) -> str:
    return f"{'.'.join(str(part) for part in path)}: " if path else ""
