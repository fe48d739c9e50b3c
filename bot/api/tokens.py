"""Authenticated API tokens kept in memory for a few seconds, so a request reads no token row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.api.batching import UowFactory
from domain.models import ApiToken
from domain.services.api_tokens import authenticate, token_hash

TOKEN_CACHE_SECONDS = 5.0  # so a revoked token keeps working at most this long


class TokenCache:
    """Valid tokens seen in the last `TOKEN_CACHE_SECONDS`; unknown secrets are never kept."""

    def __init__(self, reader: UowFactory, clock: Callable[[], datetime]) -> None:
        self.reader, self.clock = reader, clock
        self._valid: dict[str, tuple[ApiToken, datetime]] = {}  # by hash: until when

    async def authenticate(self, secret: str) -> ApiToken | None:
        """The active token `secret` names, read again once its entry is older than allowed."""
        key, now = token_hash(secret), self.clock()
        cached = self._valid.get(key)
        if cached is not None and now < cached[1]:
            return cached[0]
        token = await authenticate(self.reader(), secret)
        if token is None:
            self._valid.pop(key, None)
        else:
            self._valid[key] = (token, now + timedelta(seconds=TOKEN_CACHE_SECONDS))
        return token
