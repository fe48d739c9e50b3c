"""Fixtures shared by the report tests: a database seeded with test_metrics' rows."""

from __future__ import annotations

import pytest

from bot.cli import main
from storage.database import Database
from tests.integration.test_cli import in_thread
from tests.integration.test_metrics import seed


@pytest.fixture
def seeded(empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with the schema and the hand-made rows of test_metrics."""
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    assert main(["db", "upgrade"]) == 0

    async def populate() -> None:
        database = Database(empty_database_url)
        try:
            await seed(database)
        finally:
            await database.dispose()

    in_thread(populate())
    return empty_database_url
