"""The `image` field kind: an image shown to labelers, as an http(s) URL or a `data:image/...` URI.

The service never fetches the image: it only checks the form of the reference, so that a
labeling UI can put it in an ``<img src>`` as it is.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field

from feedbackql_server.kinds import FieldKind, hookimpl

MAX_URL_CHARS = 2048
MAX_DATA_URI_CHARS = 1_000_000
"""About 730 KB of image. Within the service's cap on any field value (1 MiB,
feedbackql_server/size_limits.py, docs/limits.md), which a record's reads are sized for."""
DATA_URI = re.compile(r"^data:image/(png|jpeg|gif|webp|avif|bmp);base64,([A-Za-z0-9+/]*={0,2})$")
"""Raster formats only: an SVG can carry script, should a UI ever inline it instead of using <img>."""


def check_image(value: str) -> str:
    if value.startswith("data:"):
        return _check_data_uri(value)
    if len(value) > MAX_URL_CHARS:
        raise ValueError(f"an image URL is at most {MAX_URL_CHARS} characters")
    if any(c.isspace() for c in value):
        raise ValueError("an image URL contains no whitespace")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an image is an http(s) URL with a host, or a data:image/...;base64 URI")
    return value


def _check_data_uri(value: str) -> str:
    if len(value) > MAX_DATA_URI_CHARS:
        raise ValueError(f"an image data URI is at most {MAX_DATA_URI_CHARS} characters; "
                         "link to larger images by URL")
    match = DATA_URI.match(value)
    if match is None:
        raise ValueError("a data URI image is data:image/(png|jpeg|gif|webp|avif|bmp);base64,<data>")
    data = match.group(2)
    try:
        if len(data) % 4:
            raise binascii.Error("not padded to a multiple of 4")
        base64.b64decode(data, validate=True)
    except binascii.Error:
        raise ValueError("the data URI's base64 data is malformed") from None
    return value


class ImageField(FieldKind):
    name = "image"
    description = ("An image: an http(s) URL or a data:image/...;base64 URI (at most 1,000,000 "
                   "characters). The service never fetches it.")
    value_type = Annotated[str, Field(min_length=1)]

    def validate_value(self, settings: Any, value: Any) -> Any:
        return check_image(value)


@hookimpl
def feedbackql_field_types() -> list[type[FieldKind]]:
    return [ImageField]
