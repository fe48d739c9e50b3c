"""Codes as people type and read them: any case, with or without dashes, always shown as
groups of four; a sale typed in chat reaches the customer without the id the bot made up."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from domain.codes import format_code
from messages.render import render
from storage.tables import OutboxRow
from tests.conversation.conftest import (
    ADMIN,
    ANN,
    CASHIER,
    data_of,
    hire,
    joined,
    press,
    said,
    text_of,
)


def spellings(code: str) -> list[str]:
    """How a person may type a code: as shown, lower case, dashed by a phone, spaced."""
    shown = format_code(code)
    return [shown, shown.lower(), shown.replace("-", "\u2013"), shown.replace("-", " "), code]


async def test_member_codes_are_found_however_typed_and_shown_in_groups(desk, ctx):
    await hire(desk)
    code = await joined(desk, ctx, ANN)
    for typed in spellings(code):
        summary = await text_of(desk, said(CASHIER, f"/member {typed}"))
        assert f"<code>{format_code(code)}</code>" in summary, typed
    added = await text_of(desk, said(ADMIN, f"/adjust {format_code(code).lower()} +5 sorry"))
    assert f"+5 points for <code>{format_code(code)}</code>" in added
    for typed in spellings(code)[:3]:
        assert format_code(code) in await text_of(desk, said(CASHIER, f"/sale {typed}"))


async def test_voucher_codes_are_found_however_typed_and_shown_in_groups(desk, ctx):
    await hire(desk)
    await joined(desk, ctx, ANN, points=500)
    [catalogue] = await desk.handle(said(ANN, "/rewards"))
    _, detail = await desk.handle(press(ANN, data_of(catalogue, "")))
    _, issued = await desk.handle(press(ANN, data_of(detail, "✅ Redeem")))
    shown = re.search(r"<code>([^<]+)</code>", issued.text)[1]
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", shown)
    for typed in spellings(shown.replace("-", "")):
        check = await text_of(desk, said(CASHIER, f"/voucher {typed}"))
        assert f"<code>{shown}</code>" in check, typed
    assert f"<code>{shown}</code>" in await text_of(desk, said(ANN, "/vouchers"))


@pytest.mark.parametrize("locale", ["en", "es"])
async def test_a_sale_typed_in_chat_reaches_the_customer_without_a_made_up_id(
    desk, ctx, database, locale
):
    await hire(desk)
    code = await joined(desk, ctx, ANN)
    await desk.handle(said(CASHIER, f"/sale {code}"))
    [categories] = await desk.handle(said(CASHIER, "10"))
    _, confirm = await desk.handle(press(CASHIER, data_of(categories, "Other")))
    await desk.handle(press(CASHIER, data_of(confirm, "✅ Record sale")))
    async with database.reader.connect() as conn:
        [context] = (
            await conn.execute(
                select(OutboxRow.c.context).where(OutboxRow.c.template == "points_earned")
            )
        ).scalars()
    assert context["receipt_id"].startswith("chat-")  # kept in the books, for refunds
    text = render("points_earned", locale, **context)
    assert context["receipt_id"] not in text
    assert text.startswith(("🧾 Purchase: <b>+15</b> points", "🧾 Compra: <b>+15</b> puntos"))
