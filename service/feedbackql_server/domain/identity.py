"""API keys: generated once, stored only as SHA-256, checked on every request."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from feedbackql_server.documents import UserDoc
from feedbackql_server.storage import Storage

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Services

OWNER_USERNAME = "owner"
KEY_PREFIX = "fql_"


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def quota_id(key_hash: str) -> str:
    """How rate limits and read quotas name the API key of this hash (never the key itself)."""
    return "key:" + key_hash


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def bearer_key(authorization: str | None) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, or None."""
    if not authorization:
        return None
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


async def authenticate(services: Services, authorization: str | None) -> UserDoc | None:
    key = bearer_key(authorization)
    if key is None:
        return None
    return await services.storage.users.by_key_hash(hash_key(key))


async def ensure_owner(storage: Storage, api_key: str) -> UserDoc:
    return await storage.users.ensure(OWNER_USERNAME, "owner", hash_key(api_key))
