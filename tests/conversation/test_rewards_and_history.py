"""Paged history, the rewards catalogue and redemption: double taps, stale and forged buttons."""

from __future__ import annotations

import asyncio

from bot.conversation.actions import Answer, Edit
from bot.conversation.events import Person
from domain.services.points import adjust_points
from tests.conftest import NOW
from tests.conversation.conftest import data_of, member_with, press, said

ANN = Person(1001, first_name="Ann", language_code="en")
BOB = Person(1002, first_name="Bob", language_code="en")


async def test_history_pages_with_buttons(conversation, ctx):
    member_id = await member_with(conversation, ctx, ANN, 0)
    for i in range(10):
        await adjust_points(
            ctx.writer(),
            ctx.program,
            member_id=member_id,
            points=i + 1,
            reason=f"gift {i}",
            actor="test",
            now=NOW,
        )
    [first] = await conversation.handle(said(ANN, "/history"))
    assert "(page 1 of 2)" in first.text
    assert "Adjustment (gift 9): <b>+10</b>" in first.text
    answer, edit = await conversation.handle(press(ANN, data_of(first, "◀ Older")))
    assert answer == Answer("cb")
    assert isinstance(edit, Edit)
    assert "(page 2 of 2)" in edit.text
    assert "Welcome bonus: <b>+50</b>" in edit.text
    assert data_of(edit, "Newer")


async def test_catalogue_detail_confirm_voucher(conversation, ctx):
    await member_with(conversation, ctx, ANN, 150)  # 200 points
    [catalogue] = await conversation.handle(said(ANN, "🎁 Rewards"))
    assert "You have <b>200</b> points." in catalogue.text
    assert "✅ Free coffee: 150 points, 1,000 left" in catalogue.text
    assert "▫️ Canvas tote bag: 600 points, 25 left (Insider and above)" in catalogue.text
    _, detail = await conversation.handle(press(ANN, data_of(catalogue, "Free coffee")))
    assert "Redeem it now?" in detail.text
    confirm = data_of(detail, "✅ Redeem")
    _, voucher = await conversation.handle(press(ANN, confirm))
    assert "<b>Free coffee</b> is yours!" in voucher.text
    assert "You have 50 points left." in voucher.text
    [again] = await conversation.handle(press(ANN, confirm, callback_id="cb2"))
    assert again == Answer("cb2", "Already done: nothing was spent twice.")
    [vouchers] = await conversation.handle(said(ANN, "/vouchers"))
    assert "Free coffee · valid until" in vouchers.text


async def test_a_double_tap_at_once_redeems_once(conversation, ctx):
    member_id = await member_with(conversation, ctx, ANN, 1000)
    [catalogue] = await conversation.handle(said(ANN, "/rewards"))
    _, detail = await conversation.handle(press(ANN, data_of(catalogue, "Free coffee")))
    confirm = data_of(detail, "✅ Redeem")
    results = await asyncio.gather(
        *[conversation.handle(press(ANN, confirm, callback_id=f"c{i}")) for i in range(5)]
    )
    assert sum(any(isinstance(a, Edit) for a in r) for r in results) == 1
    async with ctx.reader() as uow:
        assert await uow.ledger.balance(member_id) == 1050 - 150


async def test_not_enough_points_is_an_alert(conversation, ctx):
    await member_with(conversation, ctx, ANN, 0)
    [catalogue] = await conversation.handle(said(ANN, "/rewards"))
    _, detail = await conversation.handle(press(ANN, data_of(catalogue, "Free coffee")))
    assert "You need 100 more points." in detail.text
    assert all(not b.text.startswith("✅") for row in detail.buttons for b in row)


async def test_forged_and_borrowed_buttons_are_refused(conversation, ctx):
    await member_with(conversation, ctx, ANN, 1000)
    bob_id = await member_with(conversation, ctx, BOB, 0)
    [catalogue] = await conversation.handle(said(ANN, "/rewards"))
    _, detail = await conversation.handle(press(ANN, data_of(catalogue, "Free coffee")))
    confirm = data_of(detail, "✅ Redeem")
    refused = "This button is not valid any more. Please use the menu."
    assert await conversation.handle(press(BOB, confirm)) == [Answer("cb", refused)]
    tampered = confirm.replace("coffee", "off10")
    assert await conversation.handle(press(ANN, tampered)) == [Answer("cb", refused)]
    for junk in ("", "x", "rc:coffee:abc:AAAAAAAA", "h:1:" + "A" * 80):
        assert await conversation.handle(press(ANN, junk)) == [Answer("cb", refused)]
    async with ctx.reader() as uow:
        assert await uow.ledger.balance(bob_id) == 50
        assert await uow.rewards.issued("coffee") == 0


async def test_a_stale_confirm_after_the_points_are_gone(conversation, ctx):
    await member_with(conversation, ctx, ANN, 100)  # 150: one coffee
    [catalogue] = await conversation.handle(said(ANN, "/rewards"))
    _, detail = await conversation.handle(press(ANN, data_of(catalogue, "Free coffee")))
    _, second = await conversation.handle(
        press(ANN, data_of(catalogue, "Free coffee"), message_id=11)
    )
    await conversation.handle(press(ANN, data_of(detail, "✅ Redeem")))
    [answer] = await conversation.handle(press(ANN, data_of(second, "✅ Redeem")))
    assert answer.text == "Not enough points: you need 150 more."
    assert answer.alert


async def test_back_returns_to_the_catalogue(conversation, ctx):
    await member_with(conversation, ctx, ANN, 0)
    [catalogue] = await conversation.handle(said(ANN, "/rewards"))
    _, detail = await conversation.handle(press(ANN, data_of(catalogue, "Free coffee")))
    _, back = await conversation.handle(press(ANN, data_of(detail, "↩ Back")))
    assert isinstance(back, Edit)
    assert back.text == catalogue.text
    assert back.buttons == catalogue.buttons
