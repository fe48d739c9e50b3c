"""Schemathesis against the published OpenAPI document: no generated request gets a 500."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy.pool import NullPool

from bot.api.app import create_api
from domain.program_file import default_program_path, load_program
from domain.services.api_tokens import SCOPES, create_token
from storage.database import Database
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW


def prepared(path: Path) -> tuple[Database, str]:
    """A migrated SQLite database (no pooling: the ASGI client runs its own loops) and a token."""
    database = Database(f"sqlite+aiosqlite:///{path}", poolclass=NullPool)

    async def prepare() -> str:
        await upgrade(database)
        secret, _ = await create_token(SqlUnitOfWork(database), "fuzz", frozenset(SCOPES), NOW)
        return secret

    with ThreadPoolExecutor(1) as pool:
        return database, pool.submit(asyncio.run, prepare()).result()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    """The API's schema for schemathesis, and an all-scopes token."""
    database, secret = prepared(tmp_path_factory.mktemp("fuzz") / "api.db")
    api = create_api(lambda: SqlUnitOfWork(database),
                     lambda: SqlUnitOfWork(database, read_only=True),
                     load_program(default_program_path()), lambda: NOW)
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", api), secret


def test_no_generated_request_gets_a_500(fuzzed: tuple[Any, str]) -> None:
    """Every operation, with bodies and paths generated from the schema (schemathesis's
    strategies, driven by hypothesis here: its pytest plugin does not run on pytest 9)."""
    schema, secret = fuzzed
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def no_server_error(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {secret}"})
            assert response.status_code < 500, (case.method, case.path, response.text)
            if response.status_code >= 400:
                assert set(response.json()) >= {"error", "detail"}, response.text

        no_server_error()
        checked += 1
    assert checked == 8  # every operation in the OpenAPI document
