"""/stamps, the round-up choice in /donate, a stamp card filled at the till and a milestone's
reward in /invite, through the conversation core."""

from __future__ import annotations

import dataclasses

import pytest

from bot.conversation.actions import Answer, Edit, Send
from bot.conversation.core import Conversation
from domain.program import Milestone, StampCard
from domain.services.purchases import MemberRef, PurchaseOutcome, ReceiptIn, record_purchase
from tests.conftest import NOW
from tests.conversation.conftest import (
    ADMIN,
    ANN,
    CASHIER,
    OTHER,
    data_of,
    hire,
    joined,
    press,
    said,
    tap_at_once,
)
from tests.integration.helpers import line

CARD = StampCard(
    id="coffee-card", title="Coffee card", count=6, reward="coffee", categories=("coffee",)
)
VISITS = StampCard(id="visits", title="Visits", count=3, reward="tote", per="receipt")


@pytest.fixture
def stamping(ctx):
    """The context with a coffee card (six lattes: a free coffee) and a visits card."""
    return dataclasses.replace(ctx, program=dataclasses.replace(ctx.program, stamps=(CARD, VISITS)))


@pytest.fixture
def bot(stamping) -> Conversation:
    return Conversation(stamping)


async def bought(ctx, code: str, receipt: str, *lines) -> PurchaseOutcome:
    return await record_purchase(
        ctx.writer(),
        ctx.program,
        ReceiptIn(receipt, MemberRef("member_code", code), list(lines)),
        now=NOW,
    )


async def shown(bot: Conversation, person, text: str) -> str:
    [message] = await bot.handle(said(person, text))
    assert isinstance(message, Send)
    return message.text


async def test_stamps_draws_each_card_with_the_members_stamps(bot, stamping):
    code = await joined(bot, stamping, ANN)
    text = await shown(bot, ANN, "/stamps")
    assert "<b>Coffee card</b>: ○○○○○○ 0/6" in text
    assert "<b>Visits</b>: ○○○ 0/3" in text
    await bought(stamping, code, "R-1", line("LATTE", "coffee", 4, "4.50"))
    text = await shown(bot, ANN, "/stamps")
    assert "<b>Coffee card</b>: ●●●●○○ 4/6" in text
    assert (
        "2 more stamps for <b>Free coffee</b>, given at once. A stamp for each item of coffee."
        in text
    )
    assert "<b>Visits</b>: ●○○ 1/3" in text
    assert (
        "2 more stamps for <b>Canvas tote bag</b>, given at once. A stamp for each visit." in text
    )
    # 3 more: the card fills (a voucher), 1 stamp carries over
    filled = await bought(stamping, code, "R-2", line("LATTE", "coffee", 3, "4.50"))
    assert len(filled.answer["stamps"][0]["vouchers"]) == 1
    assert "<b>Coffee card</b>: ●○○○○○ 1/6" in await shown(bot, ANN, "/stamps")
    [vouchers] = await bot.handle(said(ANN, "/vouchers"))
    assert "Free coffee" in vouchers.text


async def test_stamps_in_spanish_and_without_cards(bot, stamping, ctx):
    await joined(bot, stamping, OTHER)
    text = await shown(bot, OTHER, "/stamps")
    assert "🎫 <b>Tus tarjetas de sellos</b>" in text
    assert "<b>Coffee card</b>: ○○○○○○ 0/6" in text
    assert (
        "Faltan 6 sellos para <b>Free coffee</b>, al momento. Un sello por cada artículo de "
        "coffee." in text
    )
    assert (
        "Faltan 3 sellos para <b>Canvas tote bag</b>, al momento. Un sello por cada visita." in text
    )
    plain = Conversation(ctx)  # the bundled program has no stamp cards
    await joined(plain, ctx, ANN)
    assert await shown(plain, ANN, "/stamps") == (
        "🎫 <b>Your stamp cards</b>\nThere are no stamp cards right now."
    )


async def test_rounding_up_for_a_cause_and_stopping_it(conversation, ctx):
    code = await joined(conversation, ctx, ANN)
    [causes] = await conversation.handle(said(ANN, "/donate"))
    assert "round up" not in causes.text
    _, ask = await conversation.handle(press(ANN, data_of(causes, "Plant trees")))
    assert "Or round up: keep each purchase's points in multiples of 10" in ask.text
    answer, done = await conversation.handle(press(ANN, data_of(ask, "💚 Round up my purchases")))
    assert isinstance(answer, Answer)
    assert isinstance(done, Edit)
    assert (
        "from now on each purchase's points are rounded down to a multiple of 10, and the rest "
        "goes to <b>Plant trees</b> (37 earned: 30 kept, 7 given)." in done.text
    )
    # 32.00 of coffee and 5 for the visit: 37, of which 7 go to the trees
    outcome = await bought(ctx, code, "R-1", line("BAG", "coffee", 1, "32.00"))
    assert outcome.answer["round_up"] == {"cause": "trees", "kept": 30, "donated": 7}
    [causes] = await conversation.handle(said(ANN, "/donate"))
    assert "<b>Plant trees</b>: 7 of 100,000 points" in causes.text
    assert "💚 You round up every purchase for <b>Plant trees</b>." in causes.text
    _, stopped = await conversation.handle(press(ANN, data_of(causes, "✋ Stop rounding up")))
    assert "You round up" not in stopped.text
    assert all(b.text != "✋ Stop rounding up" for row in stopped.buttons for b in row)
    kept = await bought(ctx, code, "R-2", line("BAG", "coffee", 1, "32.00"))
    assert "round_up" not in kept.answer
    assert kept.answer["balance"] == 50 + 30 + 37


async def test_the_round_up_choice_in_spanish_and_taps_at_once(conversation, ctx):
    await joined(conversation, ctx, OTHER)
    [causes] = await conversation.handle(said(OTHER, "/donate"))
    _, ask = await conversation.handle(press(OTHER, data_of(causes, "Plant trees")))
    assert "O redondea: quédate con los puntos de cada compra en múltiplos de 10" in ask.text
    data = data_of(ask, "💚 Redondear mis compras")
    replies = await tap_at_once(ctx, OTHER, data)
    edits = [a for reply in replies for a in reply if isinstance(a, Edit)]
    assert edits
    assert all("(37 ganados: te quedas 30, 7 donados)" in e.text for e in edits)
    [causes] = await conversation.handle(said(OTHER, "/donate"))
    assert "💚 Redondeas cada compra para <b>Plant trees</b>." in causes.text


async def test_the_cashier_sees_the_voucher_of_a_card_a_sale_fills(stamping):
    shoes = StampCard(id="shoes", title="Shoe club", count=1, reward="tote", categories=("shoes",))
    program = dataclasses.replace(stamping.program, stamps=(shoes,))
    desk = Conversation(
        dataclasses.replace(stamping, program=program, admins=frozenset({ADMIN.id}))
    )
    await hire(desk)
    code = await joined(desk, stamping, ANN)
    await desk.handle(said(CASHIER, f"/sale {code}"))
    [categories] = await desk.handle(said(CASHIER, "40"))
    _, confirm = await desk.handle(press(CASHIER, data_of(categories, "Shoes")))
    _, done = await desk.handle(press(CASHIER, data_of(confirm, "✅ Record sale")))
    assert "earned <b>85</b> points" in done.text  # 40 x 2 + 5
    assert "🎁 Stamp card full: <b>Canvas tote bag</b> for the customer now, voucher <code>" in (
        done.text
    )
    [vouchers] = await desk.handle(said(ANN, "/vouchers"))
    assert "Canvas tote bag" in vouchers.text


async def test_invite_names_the_reward_of_the_next_milestone(ctx):
    rules = dataclasses.replace(
        ctx.program.referrals, milestones=(Milestone(count=3, bonus=0, reward="coffee"),)
    )
    program = dataclasses.replace(ctx.program, referrals=rules)
    bot = Conversation(dataclasses.replace(ctx, program=program))
    await joined(bot, ctx, ANN)
    assert "Next milestone: 3 friends, Free coffee." in await shown(bot, ANN, "/invite")
    await joined(bot, ctx, OTHER)
    assert "Próximo hito: 3 amigos, Free coffee." in await shown(bot, OTHER, "/invite")
