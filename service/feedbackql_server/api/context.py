"""The per-request context: who is calling, and the domain session that acts for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from feedbackql_server.api.kind_types import KindTypes
from feedbackql_server.api.live_sessions import LiveSessions
from feedbackql_server.documents import UserDoc
from feedbackql_server.domain.session import Services, Session
from feedbackql_server.errors import Unauthenticated
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.policy import Caller
from feedbackql_server.settings import Settings


@dataclass
class Context:
    request: HTTPConnection
    services: Services
    kinds: KindTypes
    settings: Settings
    current_user: UserDoc | None
    sessions: LiveSessions
    connection_params: dict[str, Any] | None = None
    """The ``connection_init`` payload of a websocket (set by strawberry)."""
    _session: Session | None = field(init=False, default=None)

    @property
    def registry(self) -> KindRegistry:
        return self.services.registry

    @property
    def user(self) -> UserDoc:
        return self.require_user()

    @property
    def session(self) -> Session:
        """The caller's session with the domain; ``UNAUTHENTICATED`` without a caller."""
        if self._session is None:
            self._session = self.services.session(self.require_user())
        return self._session

    @property
    def caller(self) -> Caller:
        """The authenticated caller as the policy sees it; ``UNAUTHENTICATED`` without one."""
        return self.session.caller

    def authenticated(self, user: UserDoc | None) -> None:
        """Set (or, with None, clear) the caller, e.g. after a websocket re-authenticated.
        A socket's session (and its loaders' cached documents) never outlives a check."""
        self.current_user, self._session = user, None

    def join_sessions(self) -> None:
        if self.current_user is not None and isinstance(self.request, WebSocket):
            self.sessions.add(self.current_user["_id"], self.request)

    def leave_sessions(self) -> None:
        if self.current_user is not None and isinstance(self.request, WebSocket):
            self.sessions.remove(self.current_user["_id"], self.request)

    async def reauthenticate(self) -> bool:
        """Check the socket's key again; False (and no caller) when it no longer works."""
        previous = self.current_user
        user = await self.services.authenticate(self.authorization)
        if previous is not None and (user is None or user["_id"] != previous["_id"]):
            self.leave_sessions()
            self.authenticated(None)
            return False
        self.authenticated(user)
        return user is not None

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` value: the header, or a websocket's ``connection_init``."""
        if isinstance(self.request, WebSocket):
            params = self.connection_params or {}
            value = params.get("Authorization") or params.get("authorization")
            return value if isinstance(value, str) else None
        return self.request.headers.get("authorization")

    def require_user(self) -> UserDoc:
        """The authenticated caller; ``UNAUTHENTICATED`` when the request had no valid key."""
        if self.current_user is None:
            raise Unauthenticated(Unauthenticated.MISSING_KEY)
        return self.current_user


Info = strawberry.Info[Context, None]
"""What resolvers receive: the request's ``Context`` as ``info.context``."""
