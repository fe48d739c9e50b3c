"""Dates in chat read on the member's clock (their own time zone, else the program's), in one
format: late on Sunday evening in New York is Sunday, not Monday as in UTC."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from bot.conversation.core import Conversation
from bot.conversation.events import Person
from domain.services.members import update_settings
from domain.services.points import adjust_points
from tests.conversation.conftest import data_of, press, said

LATE = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)  # Sunday Mar 1, 21:30 in New York
ANN = Person(1001, first_name="Ann", language_code="en")


async def test_dates_follow_the_members_clock(ctx):
    late = dataclasses.replace(ctx, clock=lambda: LATE)
    conversation = Conversation(late)
    await conversation.handle(said(ANN, "/start"))
    async with ctx.reader() as uow:
        member = await uow.members.by_telegram_id(ANN.id)
    await adjust_points(
        ctx.writer(),
        ctx.program,
        member_id=member.id,
        points=500,
        reason="gift",
        actor="test",
        now=LATE,
    )
    [catalogue] = await conversation.handle(said(ANN, "/rewards"))
    _, detail = await conversation.handle(press(ANN, data_of(catalogue, "")))
    _, issued = await conversation.handle(press(ANN, data_of(detail, "✅ Redeem")))
    assert "before Mar 31, 2026." in issued.text  # 30 days on: Apr 1, 02:30 UTC
    [history] = await conversation.handle(said(ANN, "/history"))
    assert "Mar 1, 2026 · Welcome bonus" in history.text
    await update_settings(ctx.writer(), member.id, timezone="Asia/Tokyo")
    [vouchers] = await conversation.handle(said(ANN, "/vouchers"))
    assert "valid until Apr 1, 2026" in vouchers.text
    [history] = await conversation.handle(said(ANN, "/history"))
    assert "Mar 2, 2026 · Welcome bonus" in history.text
