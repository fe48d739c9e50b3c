"""The Mini App's signed card code at the till (/sale, /member, /adjust), and /card's button."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from bot.conversation.actions import Send
from bot.conversation.core import Conversation
from domain.card_codes import card_key, signed_card_code
from tests.conftest import NOW
from tests.conversation.conftest import ADMIN, ANN, CASHIER, hire, joined, said, text_of

WEB_URL = "https://shop.example"


def card_code(ctx, code: str, age: int = 0) -> str:
    """The code the Mini App shows for `code`, made `age` seconds before the test's now."""
    return signed_card_code(code, NOW - timedelta(seconds=age), card_key(ctx.secret))


async def test_a_fresh_card_code_names_its_member_at_the_till(desk, ctx):
    await hire(desk)
    code = await joined(desk, ctx, ANN, points=100)
    await desk.handle(said(CASHIER, "/sale"))
    assert "Ann" in await text_of(desk, said(CASHIER, card_code(ctx, code, age=119)))
    summary = await text_of(desk, said(CASHIER, f"/member {card_code(ctx, code, age=5)}"))
    assert "<b>150</b>" in summary
    added = await text_of(desk, said(ADMIN, f"/adjust {card_code(ctx, code)} +10 sorry"))
    assert "New balance: <b>160</b>" in added


async def test_an_expired_or_forged_card_code_is_refused(desk, ctx):
    await hire(desk)
    code = await joined(desk, ctx, ANN)
    expired = card_code(ctx, code, age=ctx.card_qr_seconds + 1)
    genuine = card_code(ctx, code)
    forged = genuine[:-1] + ("A" if genuine[-1] != "A" else "B")
    other_bot = signed_card_code(code, NOW, card_key(b"another bot"))
    for refused in (expired, forged, other_bot):
        await desk.handle(said(CASHIER, "/sale"))
        assert "out of date or not genuine" in await text_of(desk, said(CASHIER, refused))
        member = await text_of(desk, said(CASHIER, f"/member {refused}"))
        assert "out of date or not genuine" in member
    assert "out of date" in await text_of(desk, said(ADMIN, f"/adjust {expired} +5 x"))


async def test_card_opens_the_mini_app_when_there_is_one(desk, ctx):
    await joined(desk, ctx, ANN)
    [plain] = await desk.handle(said(ANN, "/card"))
    assert isinstance(plain, Send)
    assert plain.buttons == ()
    with_app = Conversation(dataclasses.replace(ctx, web_url=WEB_URL))
    [card] = await with_app.handle(said(ANN, "/card"))
    [[button]] = card.buttons
    assert button.web_app == f"{WEB_URL}/app/"
    assert button.text == "💳 My card"
    assert card.photo is not None
