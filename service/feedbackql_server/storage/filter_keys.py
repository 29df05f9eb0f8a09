"""Top-level equality keys for the filters FerretDB would otherwise evaluate itself.

FerretDB 1.24 hands PostgreSQL only a filter's top-level equalities; a condition on
``metadata.<name>`` or on whether ``<status>_by`` is empty it evaluates in Go, after decoding
every record of the bucket it reads (~25 ms a bucket of 100, so 0.5 s for a filtered page's 20
buckets at any dataset size: ``bench/worst_query.py``). Each record therefore also keeps:

- ``response_keys``: for every set of response statuses a filter can ask for, a key when the
  record has a response of one of them (at most 7 keys: the non-empty subsets of the three
  statuses). ``responseStatus: [SUBMITTED, DRAFT]`` is then the single equality
  ``response_keys: "submitted+draft"``. Written with the ``<status>_by`` lists, in the same
  update (``queue.QueueRepo.set_state``, ``records.insert``).
- ``metadata_keys``: one key per metadata value (and per term of a list), the same value
  written alike whatever its numeric type (``7`` and ``7.0``, as the database compares them).
  Written with the metadata, in the same insert or update (``records.insert``,
  ``records.replace_content``).

  Each number also has a *band* key (``band_key``): the band of the number's order-preserving
  64-bit form (``band_of``: four bands per power of two), so that a range (``ge``/``le``) is the
  few bands within it that records have (``metadata_bands.py``).

A filtered page pushes one such key beside the bucket's equality (a metadata condition of a
few values or bands: one lookup per key, ``records._bucket_filters``) and keeps the condition it
stands for: the key only narrows what PostgreSQL returns, the condition still decides. A key
exists for every record that can match, so nothing is missed; ``feedbackql check`` compares
both lists with the record, and layouts 7 and 9 gave records written before their keys.
"""

from __future__ import annotations

import itertools
import json
import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from feedbackql_server.documents import RESPONSE_STATUSES

RESPONSE_KEYS = "response_keys"
METADATA_KEYS = "metadata_keys"
BAND_BITS = 14
"""Leading bits of a number's order-preserving form that name its band: the sign, the 11 of the
exponent and 2 of the mantissa (4 bands per power of two: 256-320, 320-384, 384-448, 448-512)."""
LAST_BAND = (1 << BAND_BITS) - 1
UNORDERED = -1
"""The band a property is registered with when a record holds several numbers in it, or NaN:
one record may then match a range none of its numbers' bands is in (``ge`` met by one number,
``le`` by another), so ranges of that property are never looked up by band."""
STATUS_SETS = [combination for size in range(1, len(RESPONSE_STATUSES) + 1)
               for combination in itertools.combinations(RESPONSE_STATUSES, size)]
"""Every set of response statuses, each in ``RESPONSE_STATUSES`` order."""


def response_key(statuses: Sequence[str]) -> str:
    """The key of the records with a response of one of ``statuses``."""
    return "+".join(status for status in RESPONSE_STATUSES if status in statuses)


def response_keys(record: Mapping[str, Any]) -> list[str]:
    """The keys of a record (or of the state changes) that holds the ``<status>_by`` lists."""
    answered = {status for status in RESPONSE_STATUSES if record.get(f"{status}_by")}
    return ["+".join(statuses) for statuses in STATUS_SETS if answered.intersection(statuses)]


def metadata_keys(metadata: Mapping[str, Any] | None) -> list[str]:
    """The keys of a record's metadata: one per value (one per term of a list of values) and
    one per number's band."""
    keys: dict[str, None] = {}
    for name, value in (metadata or {}).items():
        for item in value if isinstance(value, list) else [value]:
            key = metadata_key(name, item)
            if key is not None:
                keys[key] = None
    keys.update(dict.fromkeys(band_key(name, band) for name, band in sorted(number_bands(metadata))
                              if band != UNORDERED))
    return list(keys)


def number_bands(metadata: Mapping[str, Any] | None) -> set[tuple[str, int]]:
    """The (property, band) of each number of a record's metadata (``UNORDERED`` for a list of
    several numbers or NaN)."""
    bands: set[tuple[str, int]] = set()
    for name, value in (metadata or {}).items():
        numbers = [item for item in (value if isinstance(value, list) else [value]) if _is_number(item)]
        if len(numbers) > 1 or any(math.isnan(number) for number in numbers):
            bands.add((name, UNORDERED))
        bands.update((name, band_of(number)) for number in numbers if not math.isnan(number))
    return bands


def band_of(number: float) -> int:
    """The band of ``number`` (not NaN): bands are in the numbers' order, so the numbers within
    [a, b] have bands within [band_of(a), band_of(b)]."""
    bits: int = struct.unpack(">Q", struct.pack(">d", float(number) + 0.0))[0]  # + 0.0: -0.0 is 0.0
    ordered = bits ^ 0xFFFF_FFFF_FFFF_FFFF if bits >> 63 else bits | 1 << 63
    return ordered >> (64 - BAND_BITS)


def band_key(name: str, band: int) -> str:
    """The key of the records with a number of metadata ``name`` in ``band``."""
    return json.dumps([name, "band", band])


def range_keyable(name: str) -> bool:
    """Whether a range of metadata ``name`` may be looked up by band: not a dotted path, which
    the filter would also match inside a document the keys do not look into."""
    return "." not in name and not name.startswith("$")


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def metadata_key(name: str, value: Any) -> str | None:
    """The key of metadata ``name`` equal to ``value``; None for a value without one (a
    document, a list, null: a filter of such a value is not narrowed by key)."""
    if isinstance(value, bool | str):
        return json.dumps([name, value])
    if isinstance(value, int):
        return json.dumps([name, int(value)])
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return json.dumps([name, int(value) if value.is_integer() else value])
    return None


def nothing_key(name: str) -> str:
    """A key no record has: what a filter of no value (a hidden property's) pushes down."""
    return json.dumps([name])
