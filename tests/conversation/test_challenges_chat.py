"""/challenges through the conversation core: goals, rewards, progress bars and time left,
the Join button (a second tap, or five at once, join once), Spanish titles, and a button
for a challenge that cannot be joined."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from bot.conversation.actions import Answer, Edit, Send
from bot.conversation.buttons import button
from bot.conversation.core import Conversation
from domain.program import Challenge
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from storage.tables import ChallengeJoinRow
from tests.conftest import NOW
from tests.conversation.conftest import (
    ANN,
    TAPS,
    Person,
    answered_politely,
    count,
    data_of,
    joined,
    press,
    said,
    tap_at_once,
    text_of,
)
from tests.integration.helpers import line

THREE = Challenge(
    "three",
    "Three visits",
    "purchases",
    Decimal(3),
    starts=datetime(2026, 3, 1),
    ends=datetime(2026, 4, 1),
    bonus=100,
    titles=(("en", "Three visits"), ("es", "Tres visitas")),
)
WEEK = Challenge(
    "week", "A pair a week", "purchases", Decimal(2), days=7, opt_in=True, bonus=30, reward="coffee"
)
ANA = Person(1002, first_name="Ana", language_code="es")


@pytest.fixture
def challenging(ctx):
    """The context with a fixed challenge everyone is in and a rolling opt-in one."""
    return dataclasses.replace(
        ctx, program=dataclasses.replace(ctx.program, challenges=(THREE, WEEK))
    )


@pytest.fixture
def bot(challenging) -> Conversation:
    return Conversation(challenging)


async def test_challenges_show_goals_progress_and_time_left(bot, challenging):
    code = await joined(bot, challenging, ANN)
    await record_purchase(
        challenging.writer(),
        challenging.program,
        ReceiptIn("R1", MemberRef("member_code", code), [line("TEE", "apparel", 1, "10")], NOW),
        now=NOW,
    )
    [message] = await bot.handle(said(ANN, "/challenges"))
    assert isinstance(message, Send)
    lines = message.text.splitlines()
    assert lines[0] == "🎯 <b>Challenges</b>"
    # 1 of 3 is 33 %: three bars of ten; from 15:30 UTC on 2 March to the end of 31 March
    # in New York (04:00 UTC on 1 April) is 29 days and 12 and a half hours: 30 days, rounded up
    assert lines[2:6] == [
        "<b>Three visits</b>",
        "Make 3 purchases · reward: +100 points",
        "▰▰▰▱▱▱▱▱▱▱ 1 of 3",
        "⏳ 30 days left (last day: Mar 31, 2026)",
    ]
    assert lines[7:10] == [
        "<b>A pair a week</b>",
        "Make 2 purchases · reward: +30 points and Free coffee",
        "7 days from when you join: tap Join to take part.",
    ]
    assert [[b.text for b in row] for row in message.buttons] == [["✅ Join “A pair a week”"]]


async def test_join_once_and_a_second_tap_is_answered_politely(bot, challenging, database):
    await joined(bot, challenging, ANN)
    join = data_of(await _challenges(bot), "✅ Join")
    answer, edit = await bot.handle(press(ANN, join))
    assert answer == Answer("cb", "🎯 You're in: “A pair a week”. Good luck!")
    assert isinstance(edit, Edit)
    assert "▱▱▱▱▱▱▱▱▱▱ 0 of 2\n⏳ 7 days left (last day: Mar 9, 2026)" in edit.text
    assert edit.buttons == ()  # joined: no Join button any more
    again, _ = await bot.handle(press(ANN, join))
    assert again == Answer("cb", "You have already joined “A pair a week”. Keep going!", alert=True)
    assert await count(database, ChallengeJoinRow) == 1


async def test_taps_at_once_join_once(bot, challenging, database):
    await joined(bot, challenging, ANN)
    replies = await tap_at_once(challenging, ANN, data_of(await _challenges(bot), "✅ Join"))
    answered_politely(replies)
    toasts = [next(a.text for a in r if isinstance(a, Answer)) for r in replies]
    assert toasts.count("🎯 You're in: “A pair a week”. Good luck!") == 1
    assert toasts.count("You have already joined “A pair a week”. Keep going!") == TAPS - 1
    assert await count(database, ChallengeJoinRow) == 1


async def test_spanish_titles_and_words(bot, challenging):
    await joined(bot, challenging, ANA)
    text = await text_of(bot, said(ANA, "/challenges"))
    assert "🎯 <b>Retos</b>" in text
    assert "<b>Tres visitas</b>\nHaz 3 compras · premio: +100 puntos" in text
    assert "7 días desde que te unas: pulsa Unirme para participar." in text


async def test_a_challenge_that_cannot_be_joined_is_refused(bot, challenging, database):
    await joined(bot, challenging, ANN)
    forged = button(challenging, ANN.id, "x", "cj", "three").data  # everyone is in already
    [answer] = await bot.handle(press(ANN, forged))
    assert answer == Answer("cb", "That is not possible right now.")
    assert await count(database, ChallengeJoinRow) == 0


async def test_no_challenges(conversation, ctx):
    await joined(conversation, ctx, ANN)
    text = await text_of(conversation, said(ANN, "/challenges"))
    assert text == "🎯 <b>Challenges</b>\n\nNo challenges are running right now. Come back soon!"


async def _challenges(bot: Conversation) -> Send:
    [message] = await bot.handle(said(ANN, "/challenges"))
    assert isinstance(message, Send)
    return message


async def test_under_a_day_the_time_left_is_in_hours(bot, challenging):
    await joined(bot, challenging, ANN)
    await bot.handle(press(ANN, data_of(await _challenges(bot), "✅ Join")))
    later = dataclasses.replace(challenging, clock=lambda: NOW + timedelta(days=7, minutes=-90))
    text = await text_of(Conversation(later), said(ANN, "/challenges"))
    assert "⏳ 2 hours left (last day: Mar 9, 2026)" in text  # 90 minutes, rounded up


async def test_history_names_the_challenge_in_the_members_language(bot, challenging):
    code = await joined(bot, challenging, ANA)
    for receipt in ("R1", "R2", "R3"):
        await record_purchase(
            challenging.writer(),
            challenging.program,
            ReceiptIn(receipt, MemberRef("member_code", code), [line("TEE", "apparel", 1, "10")]),
            now=NOW,
        )
    history = await text_of(bot, said(ANA, "/history"))
    assert "2 mar 2026 · Reto cumplido (Tres visitas): <b>+100</b>" in history


async def test_a_fixed_opt_in_challenge_shows_its_last_day_before_joining(ctx):
    march = dataclasses.replace(THREE, opt_in=True)
    bot = Conversation(
        dataclasses.replace(ctx, program=dataclasses.replace(ctx.program, challenges=(march,)))
    )
    await joined(bot, ctx, ANN)
    message = await _challenges(bot)
    assert "Make 3 purchases · reward: +100 points\nUntil Mar 31, 2026: tap Join" in message.text
    assert [[b.text for b in row] for row in message.buttons] == [["✅ Join “Three visits”"]]
