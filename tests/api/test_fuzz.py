"""Schemathesis against the published OpenAPI document: no generated request gets a 500.

On both databases (PostgreSQL refuses what SQLite stores: a NUL in a text, an integer past
BIGINT), with valid requests and with requests that break the schema on purpose.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from bot.api.app import create_api
from domain.program_file import default_program_path, load_program
from domain.services.api_tokens import SCOPES, create_token
from storage.database import Database
from storage.migrate import upgrade
from storage.tables import metadata
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run set-up code on its own loop: the ASGI client runs its own loops too."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class Unpooled(NullPool):
    """No pooling (each call runs its own loop), taking the pool sizes Database passes."""

    def __init__(
        self, creator: Any, pool_size: int = 0, max_overflow: int = 0, **options: Any
    ) -> None:
        super().__init__(creator, **options)


def prepared(url: str) -> tuple[Database, str]:
    """The database at `url`, emptied, and a token."""
    database = Database(url, poolclass=Unpooled)

    async def prepare() -> str:
        if database.dialect == "postgresql":
            tables = ", ".join(t.name for t in metadata.sorted_tables)
            async with database.writer.begin() as conn:
                await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            await upgrade(database)
        secret, _ = await create_token(SqlUnitOfWork(database), "fuzz", frozenset(SCOPES), NOW)
        return secret

    return database, run(prepare())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Any, str]:
    """The API's schema for schemathesis over each database, and an all-scopes token."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'api.db'}"
    database, secret = prepared(url)
    api = create_api(
        lambda: SqlUnitOfWork(database),
        lambda: SqlUnitOfWork(database, read_only=True),
        load_program(default_program_path()),
        lambda: NOW,
    )
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", api), secret


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_500(fuzzed: tuple[Any, str], mode: GenerationMode) -> None:
    """Every operation, with bodies and paths generated from the schema (schemathesis's
    strategies, driven by hypothesis here: its pytest plugin does not run on pytest 9)."""
    schema, secret = fuzzed
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        checked += 1
        if mode is GenerationMode.NEGATIVE and not (operation.body or operation.path_parameters):
            continue  # nothing to break: GET /healthz

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def no_server_error(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {secret}"})
            assert response.status_code < 500, (case.method, case.path, case.body, response.text)
            if response.status_code >= 400:
                assert set(response.json()) >= {"error", "detail"}, response.text

        no_server_error()
    assert checked == 10  # every operation in the OpenAPI document, /healthz included
