"""A bot imports only its own database's SQLAlchemy dialect and driver, not the other's,
and never SQLAlchemy's ORM (storage speaks Core through storage.aio)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from storage.database import is_sqlite

ROOT = Path(__file__).parents[2]
OWN = {  # a sample of what each database needs, so the probe is known to have used it
    "sqlite": ("sqlalchemy.dialects.sqlite", "aiosqlite", "sqlite3", "storage.inline_sqlite"),
    "postgresql": ("sqlalchemy.dialects.postgresql", "asyncpg"),
}
FOREIGN = {  # the other database's modules, with their submodules
    "sqlite": ("sqlalchemy.dialects.postgresql", "asyncpg", "psycopg"),
    "postgresql": (
        "sqlalchemy.dialects.sqlite",
        "aiosqlite",
        "sqlite3",
        "_sqlite3",
        "storage.inline_sqlite",
    ),
}


def _loaded_by_a_bot(url: str) -> list[str]:
    """The database modules a fresh process has loaded once it has used `url` as a bot does."""
    run = subprocess.run(
        [sys.executable, "-m", "tests.integration.database_modules", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    loaded: list[str] = json.loads(run.stdout.strip().splitlines()[-1])
    return loaded


def test_a_bot_loads_only_its_own_database_modules(empty_database_url: str) -> None:
    dialect = "sqlite" if is_sqlite(empty_database_url) else "postgresql"
    loaded = _loaded_by_a_bot(empty_database_url)
    assert set(OWN[dialect]) <= set(loaded)
    assert [name for name in loaded if name.startswith(FOREIGN[dialect])] == []


def test_a_bot_never_loads_sqlalchemys_orm(empty_database_url: str) -> None:
    loaded = _loaded_by_a_bot(empty_database_url)
    assert [n for n in loaded if n.startswith(("sqlalchemy.orm", "sqlalchemy.ext.asyncio"))] == []
