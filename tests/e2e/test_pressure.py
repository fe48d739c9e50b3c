"""Replies under Telegram's flood limits, on both frameworks: every person gets theirs.

The emulator enforces about 30 messages a second overall and one a second per chat (a burst
of three), answering 429 beyond; the bot must pace its replies and wait out any 429 instead
of dropping a reply.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import open_database
from bot.emulator import Emulator, SentMessage, SimulatedUser
from domain.broadcasts import BroadcastContent
from domain.segments import Segment
from domain.services.broadcasts import queue_broadcast
from storage.uow import SqlUnitOfWork
from tests.conftest import NOW
from tests.delivery.helpers import add_members, set_balance
from tests.e2e.conftest import bot_settings
from tests.e2e.test_webhook_and_restarts import running

FRAMEWORKS = ["aiogram", "ptb"]
PEOPLE = 250
GIFT = BroadcastContent("Weekend treat", button_text="Claim 50 points", bonus_points=50)


async def replies(people: list[SimulatedUser], timeout: float) -> list[SentMessage]:  # noqa: ASYNC109
    """The next message each person gets, waited for all at once."""
    return await asyncio.gather(*(p.wait_for_message(timeout=timeout) for p in people))


def refused_for_speed(emulator: Emulator) -> int:
    return sum(1 for c in emulator.calls if not c.ok and "Too Many" in (c.error or ""))


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_burst_of_250_starts_gets_every_person_a_reply(
    framework: str, emulator: Emulator, tmp_path: Path
):
    emulator.limits()
    people = [emulator.user(5000 + i, f"P{i}", language_code="en") for i in range(PEOPLE)]
    async with running(bot_settings(framework, emulator, tmp_path), emulator):
        for person in people:
            await person.start()
        welcomes = await replies(people, timeout=60)
    assert all("Welcome" in w.text for w in welcomes)
    assert all(len(p.messages) == 1 for p in people)  # no reply sent twice
    assert refused_for_speed(emulator) < PEOPLE // 10  # paced: hardly any 429 (0 when quiet)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_gift_presses_after_a_broadcast_each_get_their_reply(
    framework: str, emulator: Emulator, tmp_path: Path
):
    settings = bot_settings(framework, emulator, tmp_path)
    database = await open_database(settings)
    ids = range(6001, 6001 + PEOPLE // 2)
    for member_id in await add_members(database, ids):
        await set_balance(database, member_id, 0)
    people = [emulator.user(i, f"P{i}") for i in ids]
    for person in people:
        person.record.started = True
    emulator.limits()
    async with running(settings, emulator):
        await queue_broadcast(SqlUnitOfWork(database), GIFT, Segment(), "admin", NOW)
        treats = await replies(people, timeout=60)
        assert all(t.text == "Weekend treat" for t in treats)
        for person in people:  # everyone at once, as soon as the broadcast is through
            await person.press("Claim 50 points")
        gifts = await replies(people, timeout=60)
    assert all("+50" in g.text for g in gifts)
    assert all(len(p.messages) == 2 for p in people)
    assert refused_for_speed(emulator) < len(people) // 10
    await database.dispose()
