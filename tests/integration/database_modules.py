"""What a running bot does with its database, then the database modules it has imported.

    python -m tests.integration.database_modules <database url>

Imports the app and the conversation core, opens the database as `run` does (schema
created), joins a member and spends from a daily budget (INSERT ... ON CONFLICT), reserves a
sending slot, reads the member and balance as every update does (quick reads), and prints
the loaded modules of SQLAlchemy's dialects, ORM and asyncio extension and of the database
drivers as a JSON list.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime

from pydantic import SecretStr

import bot.conversation.core  # noqa: F401  (what every update runs through)
from bot.app import open_database, program_of
from bot.delivery.wiring import slot_store
from bot.settings import Settings
from domain.services.members import join
from storage.uow import UnitsOfWork

WATCHED = (
    "sqlalchemy.dialects.",
    "sqlalchemy.orm",
    "sqlalchemy.ext.asyncio",
    "sqlite3",
    "_sqlite3",
    "aiosqlite",
    "asyncpg",
    "psycopg",
    "storage.inline_sqlite",
)
TELEGRAM_ID = 4242


async def use(url: str) -> None:
    """Open the database at `url`, write and read as a bot does, and close it."""
    settings = Settings(database_url=url, bot_token=SecretStr("123456:PROBE-TOKEN"))
    database = await open_database(settings)
    try:
        units = UnitsOfWork(database)
        now = datetime.now(UTC)
        joined = await join(
            units.writer(),
            program_of(settings),
            telegram_id=TELEGRAM_ID,
            first_name="Probe",
            language_code="en",
            now=now,
        )
        async with units.writer() as uow:
            await uow.surprises.take_budget(now.date().isoformat(), 1, 10)
        await slot_store(database).reserve(0.1, time.time())
        async with units.reader() as uow:
            member, _ = await uow.conversations.member_and_step(TELEGRAM_ID)
            assert member is not None
            assert await uow.ledger.balance(member.id) == joined.bonus
    finally:
        await database.dispose()


if __name__ == "__main__":
    asyncio.run(use(sys.argv[1]))
    print(json.dumps(sorted(name for name in sys.modules if name.startswith(WATCHED))))
