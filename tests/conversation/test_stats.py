"""/stats in chat: admins get the key figures against the previous period, with arrows,
and the charts as photos; a signed button shows the period before; nobody else sees it.

NOW is 2026-03-02 10:30 in New York, so /stats shows [2026-01-31, 2026-03-02) against
[2026-01-01, 2026-01-31), and its button [2026-01-01, 2026-01-31) against December.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from bot.conversation.actions import Answer, Send
from bot.conversation.buttons import button
from bot.conversation.core import Conversation
from bot.conversation.desk import STAFF
from bot.conversation.handlers.stats import PREVIOUS, previous_pressed
from bot.conversation.menus import staff_commands
from bot.period_figures import keep_default_period
from bot.web.period_cache import FRESH_SECONDS
from tests.conftest import NOW
from tests.conversation.conftest import (
    ADMIN,
    ANN,
    CASHIER,
    OTHER,
    UNKNOWN,
    data_of,
    hire,
    press,
    said,
    text_of,
)
from tests.integration.helpers import buy, line, new_member
from tests.png import png_size


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T17:00").replace(tzinfo=UTC)


async def shop(ctx) -> None:
    """Two customers: one joined and bought in January, one joined and bought twice in
    February."""
    writer, program = ctx.writer, ctx.program
    early = await new_member(writer(), program, 501, now=at("2026-01-10"))
    await buy(
        writer(), program, early, "R-1", line("LATTE", "coffee", 1, "10.00"), now=at("2026-01-15")
    )
    late = await new_member(writer(), program, 502, now=at("2026-02-10"))
    await buy(
        writer(), program, late, "R-2", line("LATTE", "coffee", 2, "10.00"), now=at("2026-02-12")
    )
    await buy(
        writer(), program, late, "R-3", line("LATTE", "coffee", 1, "5.00"), now=at("2026-02-20")
    )


def screen(actions) -> tuple[list[Send], Send]:
    """The chart photos and the figures below them."""
    *photos, figures = actions
    assert all(isinstance(action, Send) for action in actions)
    return photos, figures


async def test_an_admin_gets_the_figures_against_the_period_before_and_the_charts(ctx):
    await shop(ctx)
    desk = Conversation(dataclasses.replace(ctx, admins=frozenset({ADMIN.id})))
    photos, figures = screen(await desk.handle(said(ADMIN, "/stats")))
    assert [photo.text for photo in photos] == [
        "Members at the end of each week",
        "Points per week",
        "Members per tier",
        "Net revenue per week (USD)",
        "Survey scores",
    ]
    for photo in photos:
        assert isinstance(photo.photo, bytes)
        assert png_size(photo.photo) == (800, 450)
    text = figures.text
    assert "Last 30 days</b>: Jan 31, 2026 to Mar 1, 2026" in text
    assert "Against Jan 1, 2026 to Jan 30, 2026" in text
    assert "👥 Members: <b>2</b> ▲ (before: 1)" in text
    assert "🆕 New members: <b>1</b> = (before: 1)" in text
    assert "🛒 Purchases: <b>2</b> ▲ (before: 1)" in text
    assert "💰 Net revenue: <b>$25.00</b> ▲ (before: $10.00)" in text
    assert "🧾 Average order: <b>$12.50</b> ▲ (before: $10.00)" in text
    assert "🔁 Repeat purchase rate: <b>100%</b> ▲ (before: 0%)" in text
    assert "🎁 Points redeemed: <b>0</b> = (before: 0)" in text
    assert data_of(figures, "◀ Previous period")


async def test_the_button_shows_the_period_before(ctx):
    await shop(ctx)
    desk = Conversation(dataclasses.replace(ctx, admins=frozenset({ADMIN.id})))
    _, figures = screen(await desk.handle(said(ADMIN, "/stats")))
    answer, *actions = await desk.handle(press(ADMIN, data_of(figures, "◀ Previous period")))
    assert isinstance(answer, Answer)
    photos, earlier = screen(actions)
    assert len(photos) == 5
    assert "Last 30 days</b>: Jan 1, 2026 to Jan 30, 2026" in earlier.text
    assert "Against Dec 2, 2025 to Dec 31, 2025" in earlier.text
    assert "👥 Members: <b>1</b> ▲ (before: 0)" in earlier.text
    assert "🧾 Average order: <b>$10.00</b> (before: n/a)" in earlier.text  # no arrow
    _, again = screen((await desk.handle(press(ADMIN, data_of(earlier, "◀"))))[1:])
    assert "Last 30 days</b>: Dec 2, 2025 to Dec 31, 2025" in again.text


async def test_a_spanish_speaking_admin_reads_it_in_spanish(ctx):
    await shop(ctx)
    desk = Conversation(dataclasses.replace(ctx, admins=frozenset({OTHER.id})))
    photos, figures = screen(await desk.handle(said(OTHER, "/stats")))
    assert photos[0].text == "Socios al final de cada semana"
    assert "Últimos 30 días</b>: del 31 ene 2026 al 1 mar 2026" in figures.text
    assert "💰 Ingresos netos: <b>25,00\xa0US$</b> ▲ (antes: 10,00\xa0US$)" in figures.text
    assert "🔁 Tasa de repetición: <b>100\xa0%</b> ▲ (antes: 0\xa0%)" in figures.text
    assert data_of(figures, "◀ Periodo anterior")


async def test_cashiers_and_customers_get_the_unknown_command_reply(ctx):
    desk = Conversation(dataclasses.replace(ctx, admins=frozenset({ADMIN.id})))
    await hire(desk)
    await desk.handle(said(ANN, "/start"))
    await desk.handle(said(CASHIER, "/start"))
    for person in (CASHIER, ANN):
        unknown = await text_of(desk, said(person, "/nonsense"))
        assert UNKNOWN in unknown
        assert await text_of(desk, said(person, "/stats")) == unknown
    [not_joined] = await desk.handle(said(OTHER, "/nonsense"))
    assert await desk.handle(said(OTHER, "/stats")) == [not_joined]
    assert "stats" in dict(staff_commands("admin", "en"))
    assert "stats" not in dict(staff_commands("staff", "en"))
    assert "/stats" in await text_of(desk, said(ADMIN, "/help"))


async def test_the_button_works_for_its_admin_only_and_with_a_date(ctx):
    admins = frozenset({ADMIN.id, OTHER.id})
    desk = Conversation(dataclasses.replace(ctx, admins=admins))
    _, figures = screen(await desk.handle(said(ADMIN, "/stats")))
    pressed = await desk.handle(press(OTHER, data_of(figures, "◀")))  # another admin
    assert not any(isinstance(action, Send) and action.photo for action in pressed)
    mangled = button(desk.ctx, ADMIN.id, "x", PREVIOUS, "2026-02-30").data
    [refusal] = await desk.handle(press(ADMIN, mangled))
    assert isinstance(refusal, Answer)
    assert refusal.text == "This button is not valid any more. Please use the menu."


def test_the_buttons_action_is_its_own() -> None:
    assert STAFF.buttons[PREVIOUS].handler is previous_pressed
    assert STAFF.buttons[PREVIOUS].role == "admin"


async def test_figures_kept_by_the_scheduler_answer_at_once_until_ten_minutes_old(ctx):
    """/stats shows the figures the dashboard's job kept (a large program takes seconds to
    compute them), and computes them again once they are FRESH_SECONDS old."""
    await shop(ctx)
    await keep_default_period(ctx.reader, ctx.writer, ctx.program, NOW)
    late = await new_member(ctx.writer(), ctx.program, 503, now=at("2026-02-10"))
    await buy(
        ctx.writer(),
        ctx.program,
        late,
        "R-4",
        line("LATTE", "coffee", 1, "5.00"),
        now=at("2026-02-21"),
    )
    admin_ctx = dataclasses.replace(ctx, admins=frozenset({ADMIN.id}))
    _, kept = screen(await Conversation(admin_ctx).handle(said(ADMIN, "/stats")))
    assert "🛒 Purchases: <b>2</b>" in kept.text  # as kept, without the late receipt
    later = dataclasses.replace(admin_ctx, clock=lambda: NOW + timedelta(seconds=FRESH_SECONDS))
    _, fresh = screen(await Conversation(later).handle(said(ADMIN, "/stats")))
    assert "🛒 Purchases: <b>3</b>" in fresh.text
