"""Names shared by every layer that reads stored documents."""

from __future__ import annotations

from typing import Literal

ResponseStatus = Literal["submitted", "draft", "discarded"]
RESPONSE_STATUSES: tuple[ResponseStatus, ...] = ("submitted", "draft", "discarded")
"""Every status a stored response can have, in the order counters list them."""
