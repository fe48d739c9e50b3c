"""The merchant API over the test database, called in-process through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
import pytest

from bot.api.app import create_api
from bot.health import Health
from domain.program import Program
from domain.services.api_tokens import SCOPES, create_token
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW


@asynccontextmanager
async def api_client(
    database: Database,
    program: Program,
    clock: Callable[[], datetime] = lambda: NOW,
    health: Health | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a new API app over `database` (its own token cache and batcher)."""
    api = create_api(
        lambda: SqlUnitOfWork(database),
        lambda: SqlUnitOfWork(database, read_only=True),
        program,
        clock,
        health=health,
    )
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://till") as http:
        yield http


@pytest.fixture
async def client(database, program) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API; no token set."""
    async with api_client(database, program) as http:
        yield http


@pytest.fixture
async def tokens(database) -> dict[str, str]:
    """A token per scope, and 'all' with every scope."""
    made = {}
    for scope in sorted(SCOPES):
        secret, _ = await create_token(
            SqlUnitOfWork(database), f"t-{scope}", frozenset({scope}), NOW
        )
        made[scope] = secret
    return made


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
