"""GET /healthz: the process, the database, the bot's last update and the outbox backlog."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from bot.api.errors import RETRY_AFTER_SECONDS
from bot.health import Health
from tests.api.conftest import api_client
from tests.api.test_errors import unreachable
from tests.conftest import NOW
from tests.integration.helpers import new_member


async def test_the_backlog_and_no_bot(client, database, program, uow):
    empty = await client.get("/healthz")
    assert empty.json() == {"status": "ok", "database": "ok", "outbox_backlog": 0, "bot": None}
    member = await new_member(uow, program, 1)
    async with uow:
        for _ in range(4):
            await uow.outbox.add(member.id, "points_earned", {}, NOW)
    async with database.writer.begin() as conn:  # one sent, one given up: two still to send
        await conn.execute(text("UPDATE outbox SET state = 'sent' WHERE id = 1"))
        await conn.execute(text("UPDATE outbox SET state = 'failed' WHERE id = 2"))
    answer = await client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["outbox_backlog"] == 2


async def test_the_last_update_the_bot_handled(database, program):
    health = Health()
    async with api_client(database, program, health=health) as client:
        before = (await client.get("/healthz")).json()
        assert before["bot"] == {"last_update_at": None, "seconds_since_last_update": None}
        health.update_handled(NOW - timedelta(seconds=42))
        after = (await client.get("/healthz")).json()
    assert after["bot"] == {
        "last_update_at": "2026-03-02T15:29:18Z",
        "seconds_since_last_update": 42.0,
    }


async def test_a_database_that_is_down_is_a_503(database, program):
    gone = unreachable(database)
    async with api_client(gone, program) as client:
        answer = await client.get("/healthz")
    await gone.dispose()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert answer.json() == {
        "status": "unavailable",
        "database": "unreachable",
        "outbox_backlog": None,
        "bot": None,
        "error": "database_unavailable",
        "detail": "the database cannot be reached",
    }
