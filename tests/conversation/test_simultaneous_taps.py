"""Five simultaneous taps of every confirming button act once, even on a slow database.

Each test prepares a flow up to its confirm button with the ordinary core, then presses
that button five times at once through a core whose every repository call answers 50 ms
late (so each tap reads its state long before any other commits). Exactly one tap acts;
the others get a polite answer, never the apology; the ledger stays consistent.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from bot.conversation.actions import Edit, Send
from bot.conversation.buttons import button
from bot.conversation.handlers.gift import GIFT
from domain.broadcasts import BroadcastContent
from domain.ledger import EntryKind
from domain.segments import Segment
from domain.services.broadcasts import queue_broadcast
from domain.services.conversations import STATE_LIFETIME, remember_step, take_step
from storage.checks import check_invariants
from storage.tables import (
    AuditRow,
    BroadcastRow,
    DonationRow,
    MemberRow,
    OutboxRow,
    PurchaseRow,
    TransactionRow,
    VoucherRow,
)
from tests.conftest import NOW
from tests.conversation.conftest import (
    ADMIN,
    ANN,
    CASHIER,
    TAPS,
    already_done,
    answered_politely,
    count,
    data_of,
    hire,
    joined,
    member_with,
    press,
    said,
    tap_at_once,
)


async def test_send_now_queues_one_broadcast(desk, ctx, database):
    for person in (ANN, CASHIER):
        await joined(desk, ctx, person)
    await desk.handle(said(ADMIN, "/broadcast"))
    await desk.handle(said(ADMIN, "Big sale"))
    [segment] = await desk.handle(said(ADMIN, "Shop | https://example.com"))
    _, _, confirm = await desk.handle(press(ADMIN, data_of(segment, "👁 Preview")))
    replies = await tap_at_once(
        dataclasses.replace(ctx, admins=frozenset({ADMIN.id})),
        ADMIN,
        data_of(confirm, "📣 Send now"),
    )
    answered_politely(replies)
    queued = [a for r in replies for a in r if "Broadcast #1 is queued" in (a.text or "")]
    assert len(queued) == 1
    assert already_done(replies) == TAPS - 1
    assert await count(database, BroadcastRow) == 1
    assert await count(database, OutboxRow, OutboxRow.c.broadcast_id.is_not(None)) == 2


async def test_record_sale_records_one_sale(desk, ctx, database):
    await hire(desk)
    code = await joined(desk, ctx, ANN)
    await desk.handle(said(CASHIER, f"/sale {code}"))
    [categories] = await desk.handle(said(CASHIER, "40"))
    _, confirm = await desk.handle(press(CASHIER, data_of(categories, "Shoes")))
    replies = await tap_at_once(ctx, CASHIER, data_of(confirm, "✅ Record sale"))
    answered_politely(replies)
    edits = [a.text for r in replies for a in r if isinstance(a, Edit)]
    assert sum("already recorded" not in text for text in edits) == 1
    assert len(edits) + already_done(replies) == TAPS
    assert await count(database, PurchaseRow) == 1
    assert await count(database, TransactionRow, TransactionRow.c.kind == EntryKind.PURCHASE) == 1
    assert await check_invariants(database) == []


async def test_redeem_issues_one_voucher(conversation, ctx, database):
    await member_with(conversation, ctx, ANN, 1000)  # enough for six: only the nonce stops it
    [catalogue] = await conversation.handle(said(ANN, "/rewards"))
    _, detail = await conversation.handle(press(ANN, data_of(catalogue, "Free coffee")))
    replies = await tap_at_once(ctx, ANN, data_of(detail, "✅ Redeem"))
    answered_politely(replies)
    assert sum(any(isinstance(a, Edit) and "is yours!" in a.text for a in r) for r in replies) == 1
    assert already_done(replies) == TAPS - 1
    assert await count(database, VoucherRow) == 1
    assert await check_invariants(database) == []


@pytest.mark.parametrize("amount", ["100", "300"])  # part of the balance, or all of it
async def test_donate_gives_once(conversation, ctx, database, amount):
    await member_with(conversation, ctx, ANN, 250)  # 300 points
    [causes] = await conversation.handle(said(ANN, "/donate"))
    await conversation.handle(press(ANN, data_of(causes, "Plant trees")))
    [confirm] = await conversation.handle(said(ANN, amount))
    replies = await tap_at_once(ctx, ANN, data_of(confirm, "✅ Donate"))
    answered_politely(replies)
    assert sum(any(isinstance(a, Edit) and "You gave" in a.text for a in r) for r in replies) == 1
    assert already_done(replies) == TAPS - 1  # not "not enough points" when all was given
    assert await count(database, DonationRow) == 1
    assert await check_invariants(database) == []


async def test_forget_erases_once(conversation, ctx, database):
    await member_with(conversation, ctx, ANN, 100)
    [ask] = await conversation.handle(said(ANN, "/forget"))
    replies = await tap_at_once(ctx, ANN, data_of(ask, "🗑 Yes"))
    answered_politely(replies)
    assert (
        sum(
            any(isinstance(a, Edit) and "personal data is erased" in a.text for a in r)
            for r in replies
        )
        == 1
    )
    assert already_done(replies) == TAPS - 1
    assert await count(database, TransactionRow, TransactionRow.c.kind == EntryKind.FORFEIT) == 1
    assert await count(database, MemberRow, MemberRow.c.forgotten_at.is_not(None)) == 1
    assert await check_invariants(database) == []


async def test_mark_used_uses_a_voucher_once(desk, ctx, database):
    await hire(desk)
    await joined(desk, ctx, ANN, points=500)
    [catalogue] = await desk.handle(said(ANN, "/rewards"))
    _, detail = await desk.handle(press(ANN, data_of(catalogue, "")))
    _, issued = await desk.handle(press(ANN, data_of(detail, "✅ Redeem")))
    voucher = re.search(r"<code>([A-Z0-9-]{12,14})</code>", issued.text)[1]
    [check] = await desk.handle(said(CASHIER, f"/voucher {voucher}"))
    replies = await tap_at_once(ctx, CASHIER, data_of(check, "✅ Mark as used"))
    answered_politely(replies)
    assert sum(any(isinstance(a, Edit) and "Used on" in a.text for a in r) for r in replies) == 1
    assert await count(database, AuditRow, AuditRow.c.action == "voucher_used") == 1


async def test_a_gift_button_gives_once(conversation, ctx, database):
    member_id = await member_with(conversation, ctx, ANN, 0)
    broadcast_id = await queue_broadcast(
        ctx.writer(),
        BroadcastContent("Gift!", button_text="Claim", bonus_points=75),
        Segment(),
        "test",
        NOW,
    )
    gift = button(ctx, ANN.id, "Claim", GIFT, str(broadcast_id))
    replies = await tap_at_once(ctx, ANN, gift.data)
    answered_politely(replies)
    assert sum(any(isinstance(a, Send) for a in r) for r in replies) == 1
    assert already_done(replies) == TAPS - 1
    async with ctx.reader() as uow:
        assert await uow.ledger.balance(member_id) == 50 + 75
    assert await check_invariants(database) == []


async def test_removing_a_cashier_once(desk, ctx, database):
    await hire(desk)
    [pick] = await desk.handle(said(ADMIN, "/staff remove"))
    replies = await tap_at_once(
        dataclasses.replace(ctx, admins=frozenset({ADMIN.id})), ADMIN, data_of(pick, "✖ Carl")
    )
    answered_politely(replies)
    assert await count(database, AuditRow, AuditRow.c.action == "staff_removed") == 1


async def test_a_step_is_taken_only_at_that_step_and_only_once(ctx):
    await remember_step(ctx.writer(), ANN.id, "broadcast_segment", {"html": "x"}, NOW)
    async with ctx.writer() as uow:
        assert await take_step(uow, ANN.id, "donate_amount", NOW) is None  # another step
    async with ctx.writer() as uow:
        taken = await take_step(uow, ANN.id, "broadcast_segment", NOW)
        assert taken is not None
        assert taken.data == {"html": "x"}
        assert await take_step(uow, ANN.id, "broadcast_segment", NOW) is None
    await remember_step(ctx.writer(), ANN.id, "broadcast_segment", {}, NOW - STATE_LIFETIME * 2)
    async with ctx.writer() as uow:  # abandoned: taken away, but not acted on
        assert await take_step(uow, ANN.id, "broadcast_segment", NOW) is None
    async with ctx.reader() as uow:
        assert await uow.conversations.get(ANN.id) is None


async def test_a_failed_action_puts_the_step_back(ctx):
    await remember_step(ctx.writer(), ANN.id, "broadcast_segment", {"html": "x"}, NOW)

    async def take_then_fail() -> None:
        async with ctx.writer() as uow:
            assert await take_step(uow, ANN.id, "broadcast_segment", NOW) is not None
            raise RuntimeError("queueing failed")

    with pytest.raises(RuntimeError):
        await take_then_fail()
    async with ctx.reader() as uow:
        assert (await uow.conversations.get(ANN.id)).data == {"html": "x"}
