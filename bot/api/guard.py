"""The API's front door: the token checked and the body capped before any route reads it.

FastAPI reads and parses a request's body before it runs the route's dependencies, so a
token checked there comes too late: a 200 MB body without a token is in memory first.
`Guard` is an ASGI middleware in front of the routes:

- /api/v1/* (but the OpenAPI document) without a valid Bearer token: 401; with a token
  that lacks the scope the route declares (`requires`): 403. The body is not read.
- Any body over MAX_BODY_BYTES: 413, at once when its Content-Length says so, and as soon
  as a body without one (chunked) passes the limit while it is read.
- The database cannot be reached, for the token check or in a route: 503 with Retry-After.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.api.errors import error_response, unavailable_response
from bot.api.tokens import TokenCache
from domain.models import ApiToken
from storage.errors import is_unavailable

MAX_BODY_BYTES = 1024 * 1024  # a 500-line receipt or a 4096-character broadcast fits many times
PROTECTED = "/api/v1/"
SCOPE_FIELD = "x-scope"  # in a route's OpenAPI entry: the token scope it needs
_TOKEN_STATE = "api_token"


def requires(scope: str) -> dict[str, Any]:
    """A route's `openapi_extra` naming the scope its token needs: documented and enforced."""
    return {SCOPE_FIELD: scope}


def checked_token(scope: Scope) -> ApiToken | None:
    """The token the guard accepted for this request."""
    token = scope.get("state", {}).get(_TOKEN_STATE)
    return token if isinstance(token, ApiToken) else None


class _TooLarge(Exception):
    """A body without a length passed MAX_BODY_BYTES while the route read it."""


class Guard:
    """ASGI middleware: authentication, the body limit and the database's absence, in front of
    the routes of `router`; `public` paths under /api/v1/ need no token."""

    def __init__(
        self, app: ASGIApp, tokens: TokenCache, router: Router, public: frozenset[str]
    ) -> None:
        self.app, self.tokens, self.router, self.public = app, tokens, router, public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            refusal = await self._refusal(scope)
        except Exception as error:
            if not is_unavailable(error):
                raise
            refusal = unavailable_response()
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await _Exchange(self.app, scope, receive, send).run()

    async def _refusal(self, scope: Scope) -> Response | None:
        """The answer given without reading the body, or None to let the request in."""
        headers = Headers(scope=scope)
        path: str = scope["path"]
        if path.startswith(PROTECTED) and path not in self.public:
            refusal = await self._authorize(scope, headers.get("authorization", ""))
            if refusal is not None:
                return refusal
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            return too_large()
        return None

    async def _authorize(self, scope: Scope, authorization: str) -> Response | None:
        kind, _, secret = authorization.partition(" ")
        token = (
            await self.tokens.authenticate(secret.strip())
            if (kind.lower() == "bearer" and secret.strip())
            else None
        )
        if token is None:
            return error_response(
                401,
                "unauthorized",
                "a valid Bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        needed = _needed_scope(self.router.routes, scope)
        if needed is not None and needed not in token.scopes and "admin" not in token.scopes:
            return error_response(403, "forbidden", f"this token lacks the {needed!r} scope")
        scope.setdefault("state", {})[_TOKEN_STATE] = token
        return None


def _needed_scope(routes: list[BaseRoute], scope: Scope) -> str | None:
    """The scope the route this request goes to declares; None for no route (404, 405)."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            extra = getattr(route, "openapi_extra", None) or {}
            needed = extra.get(SCOPE_FIELD)
            return needed if isinstance(needed, str) else None
    return None


def too_large() -> Response:
    """413 with the limit."""
    return error_response(
        413, "payload_too_large", f"the request body is larger than {MAX_BODY_BYTES} bytes"
    )


class _Exchange:
    """One request let in: its body counted as it is read, its failures answered."""

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        self.app, self.scope, self._receive, self._send = app, scope, receive, send
        self.received = 0
        self.too_large = False
        self.started = False

    async def run(self) -> None:
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception as error:
            if self.started or not (self.too_large or is_unavailable(error)):
                raise
            answer = too_large() if self.too_large else unavailable_response()
            await self._answer(answer)

    async def receive(self) -> Message:
        if self.too_large:
            raise _TooLarge
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > MAX_BODY_BYTES:
                self.too_large = True
                raise _TooLarge
        return message

    async def send(self, message: Message) -> None:
        """Pass the route's answer on; once the body was too large, answer 413 instead (the
        route turned the failed read into an error of its own)."""
        if self.too_large:
            if message["type"] == "http.response.start" and not self.started:
                await self._answer(too_large())
            return
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)

    async def _answer(self, response: Response) -> None:
        self.started = True
        await response(self.scope, self._receive, self._send)
