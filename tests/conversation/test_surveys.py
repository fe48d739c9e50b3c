"""Satisfaction surveys through the core and the outbox: asked after a purchase with the
delay, answered by button once, the bonus once, a comment after a low score, /feedback for
admins, the opt-out in /settings, one survey per member in survey_min_days."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.conversation.actions import Answer, Edit, Send
from bot.conversation.core import Conversation
from bot.conversation.events import Person
from domain.earning import PurchaseLine
from domain.program import Survey
from domain.services.purchases import (
    MERCHANT,
    MemberRef,
    ReceiptIn,
    record_purchase,
    record_purchases,
    refund_purchase,
)
from domain.services.rewards import redeem_reward
from domain.services.surveys import TEMPLATE, satisfaction
from domain.surveys import Score, sampled
from messages.render import render
from storage.tables import OutboxRow, SurveySendRow, TransactionRow
from tests.conftest import NOW
from tests.conversation.conftest import (
    TAPS,
    answered_politely,
    count,
    data_of,
    member_with,
    press,
    said,
    tap_at_once,
)
from tests.delivery.helpers import FakeBotApi, FakeClock, deliver, new_sender

ANN = Person(1001, first_name="Ann", language_code="en")
ADMIN = Person(9001, first_name="Ada", language_code="en")
AFTER_PURCHASE = Survey(
    id="after_purchase",
    trigger="purchase",
    sample=Decimal(1),
    delay_minutes=60,
    questions=("csat", "nps"),
    comment=True,
    reward_points=20,
)


@pytest.fixture
def program(program):
    """The bundled program with one survey after every purchase."""
    return replace(program, surveys=(AFTER_PURCHASE,))


LATTE = [PurchaseLine("LATTE", "coffee", 1, Decimal("4.50"))]


async def buy(ctx, person: Person, receipt: str, at=NOW, store: str | None = None) -> None:
    await record_purchase(
        ctx.writer(),
        ctx.program,
        ReceiptIn(receipt, MemberRef("telegram_id", str(person.id)), LATTE, store=store),
        now=at,
    )


async def survey_rows(database) -> list[OutboxRow]:
    async with database.reader.connect() as conn:
        rows = await conn.execute(
            select(OutboxRow).where(OutboxRow.c.template == TEMPLATE).order_by(OutboxRow.c.id)
        )
        return list(rows.all())


async def sent_question(database, ctx) -> Send:
    """Deliver the outbox from an hour after NOW (one message per chat and pass, so a few
    passes); the survey question sent."""
    api, clock = FakeBotApi(), FakeClock(NOW + timedelta(minutes=60))
    sender = new_sender(database, api, clock)
    sender.sign = ctx.sign
    for _ in range(4):
        await deliver(sender)
        clock.advance(5)
    [question] = [s for s in api.sent if "A quick question" in s.text]
    return question


async def balance(ctx, member_id: int) -> int:
    async with ctx.reader() as uow:
        return await uow.ledger.balance(member_id)


async def test_asked_after_a_purchase_once_the_delay_is_over(conversation, ctx, database):
    await member_with(conversation, ctx, ANN, 0)
    await buy(ctx, ANN, "R1")
    [row] = await survey_rows(database)
    assert row.next_attempt_at == NOW + timedelta(minutes=60)
    api, clock = FakeBotApi(), FakeClock(NOW + timedelta(minutes=59))
    sender = new_sender(database, api, clock)
    sender.sign = ctx.sign
    for _ in range(4):  # one message per chat and pass
        await deliver(sender)
        clock.advance(5)
    assert [s.text.startswith("🧾 Purchase R1") for s in api.sent] == [True]  # no survey yet
    clock.now = NOW + timedelta(minutes=60)
    for _ in range(4):
        await deliver(sender)
        clock.advance(5)
    [question] = [s for s in api.sent if "A quick question" in s.text]
    assert "(1 of 2)" in question.text
    assert "How satisfied" in question.text
    assert [b.text for b in question.buttons[0]] == ["1", "2", "3", "4", "5"]


async def test_answered_the_bonus_paid_once_and_a_second_tap_changes_nothing(
    conversation, ctx, database
):
    member_id = await member_with(conversation, ctx, ANN, 0)
    await buy(ctx, ANN, "R1")
    question = await sent_question(database, ctx)
    before = await balance(ctx, member_id)
    _, nps = await conversation.handle(press(ANN, data_of(question, "5")))
    assert isinstance(nps, Edit)
    assert "(2 of 2)" in nps.text
    assert "recommend" in nps.text
    assert [b.text for row in nps.buttons for b in row] == [str(n) for n in range(11)]
    _, thanks = await conversation.handle(press(ANN, data_of(nps, "10"), callback_id="cb2"))
    assert "Thank you for your answers! <b>+20</b> points" in thanks.text
    assert "What went wrong" not in thanks.text
    assert await balance(ctx, member_id) == before + 20
    [again] = await conversation.handle(press(ANN, data_of(nps, "3"), callback_id="cb3"))
    assert again == Answer(
        "cb3", "You already answered this question. Thank you, your first answer counts!"
    )
    [first] = await conversation.handle(press(ANN, data_of(question, "1"), callback_id="cb4"))
    assert isinstance(first, Answer)
    assert "already answered" in (first.text or "")
    assert await balance(ctx, member_id) == before + 20
    [history] = await conversation.handle(said(ANN, "/history"))
    assert "Mar 2, 2026 · Bonus (survey after_purchase): <b>+20</b>" in history.text
    async with ctx.reader() as uow:
        [send_id] = [int(data_of(question, "5").split(":")[1])]
        assert await uow.surveys.answers(send_id) == {"csat": 5, "nps": 10}


async def test_someone_elses_survey_button_is_refused(conversation, ctx, database):
    await member_with(conversation, ctx, ANN, 0)
    bob = Person(1002, first_name="Bob", language_code="en")
    await member_with(conversation, ctx, bob, 0)
    await buy(ctx, ANN, "R1")
    question = await sent_question(database, ctx)
    [refused] = await conversation.handle(press(bob, data_of(question, "5")))
    assert refused == Answer("cb", "This button is not valid any more. Please use the menu.")


async def test_a_low_score_asks_for_a_comment_that_admins_read(conversation, ctx, database):
    await member_with(conversation, ctx, ANN, 0)
    await buy(ctx, ANN, "R1")
    question = await sent_question(database, ctx)
    _, nps = await conversation.handle(press(ANN, data_of(question, "2")))
    _, thanks = await conversation.handle(press(ANN, data_of(nps, "4"), callback_id="cb2"))
    assert "What went wrong? Type a few words" in thanks.text
    restarted = Conversation(ctx)  # the comment step lives in the database
    [saved] = await restarted.handle(said(ANN, "The <b>coffee</b> was cold"))
    assert saved.text == "💬 Thank you! Your comment went to the team."
    [after] = await restarted.handle(said(ANN, "and slow"))  # the step is over
    assert "/help" in after.text
    admin = Conversation(replace(ctx, admins=frozenset({ADMIN.id})))
    [listed] = await admin.handle(said(ADMIN, "/feedback"))
    async with ctx.reader() as uow:
        ann = await uow.members.by_telegram_id(ANN.id)
    code = f"{ann.code[:4]}-{ann.code[4:]}"
    assert f"Mar 2, 2026 · {code} · satisfaction 2/5" in listed.text
    assert "<i>The &lt;b&gt;coffee&lt;/b&gt; was cold</i>" in listed.text
    assert "and slow" not in listed.text
    assert "Ann" not in listed.text
    [customer] = await conversation.handle(said(ANN, "/feedback"))
    assert "comments" not in customer.text
    assert "/help" in customer.text


async def test_feedback_with_no_comments_says_so(ctx):
    admin = Conversation(replace(ctx, admins=frozenset({ADMIN.id})))
    [listed] = await admin.handle(said(ADMIN, "/feedback"))
    assert "No comments yet." in listed.text


async def test_surveys_off_in_settings_asks_nothing_and_cancels_the_queued(
    conversation, ctx, database
):
    await member_with(conversation, ctx, ANN, 0)
    await buy(ctx, ANN, "R1")  # queued before the member turns surveys off
    [settings] = await conversation.handle(said(ANN, "/settings"))
    assert "Surveys: on" in settings.text
    _, edited = await conversation.handle(press(ANN, data_of(settings, "📝 Surveys: on")))
    assert "Surveys: off" in edited.text
    assert data_of(edited, "📝 Surveys: off")
    [cancelled] = await survey_rows(database)
    assert cancelled.state == "cancelled"
    await buy(ctx, ANN, "R2", at=NOW + timedelta(days=30))
    assert len(await survey_rows(database)) == 1  # nothing new asked
    _, back_on = await conversation.handle(
        press(ANN, data_of(edited, "📝 Surveys: off"), callback_id="cb2")
    )
    assert "Surveys: on" in back_on.text
    await buy(ctx, ANN, "R3", at=NOW + timedelta(days=31))
    assert len(await survey_rows(database)) == 2


async def test_not_asked_twice_within_survey_min_days(conversation, ctx, database):
    assert ctx.program.metrics.survey_min_days == 14
    await member_with(conversation, ctx, ANN, 0)
    await buy(ctx, ANN, "R1")
    await buy(ctx, ANN, "R2", at=NOW + timedelta(days=13, hours=23))
    assert len(await survey_rows(database)) == 1
    await buy(ctx, ANN, "R3", at=NOW + timedelta(days=14, minutes=1))
    assert len(await survey_rows(database)) == 2


async def test_a_refund_and_a_redemption_trigger_their_surveys(conversation, ctx, database):
    after_refund = replace(AFTER_PURCHASE, id="after_refund", trigger="refund", delay_minutes=0)
    after_voucher = replace(AFTER_PURCHASE, id="after_voucher", trigger="redemption")
    both = replace(ctx, program=replace(ctx.program, surveys=(after_refund, after_voucher)))
    member_id = await member_with(conversation, both, ANN, 1000)
    await buy(both, ANN, "R1")
    assert await survey_rows(database) == []  # no survey follows a purchase here
    await refund_purchase(
        both.writer(),
        both.program,
        merchant=MERCHANT,
        receipt_id="R1",
        amount=Decimal("4.50"),
        now=NOW,
    )
    await redeem_reward(
        both.writer(),
        both.program,
        member_id=member_id,
        reward_id=both.program.rewards[0].id,
        now=NOW + timedelta(days=15),
    )
    async with database.reader.connect() as conn:
        sends = (
            await conn.execute(
                select(SurveySendRow.c.survey_id, SurveySendRow.c.trigger).order_by(
                    SurveySendRow.c.id
                )
            )
        ).all()
    assert [tuple(s) for s in sends] == [
        ("after_refund", "refund"),
        ("after_voucher", "redemption"),
    ]


async def test_a_survey_due_in_quiet_hours_waits_for_their_end(conversation, ctx, database):
    await member_with(conversation, ctx, ANN, 0)
    evening = NOW.replace(day=3, hour=1, minute=30)  # 20:30 in New York: due 21:30, quiet
    morning = NOW.replace(day=3, hour=14, minute=0)  # 09:00 in New York
    await buy(ctx, ANN, "R1", at=evening)
    [row] = await survey_rows(database)
    assert row.next_attempt_at == morning
    api, clock = FakeBotApi(), FakeClock(morning - timedelta(minutes=1))
    sender = new_sender(database, api, clock)
    sender.sign = ctx.sign
    for _ in range(4):
        await deliver(sender)
        clock.advance(5)
    assert not [s for s in api.sent if "A quick question" in s.text]
    clock.now = morning
    await deliver(sender)
    assert [s for s in api.sent if "A quick question" in s.text]


async def test_surveys_follow_a_batch_of_receipts_from_the_till(conversation, ctx, database):
    bob = Person(1002, first_name="Bob", language_code="en")
    ann_id = await member_with(conversation, ctx, ANN, 0)
    bob_id = await member_with(conversation, ctx, bob, 0)
    receipts = [
        ReceiptIn(f"T{i}", MemberRef("telegram_id", str(person.id)), LATTE)
        for i, person in enumerate((ANN, bob, ANN))
    ]
    await record_purchases(ctx.writer(), ctx.program, receipts, now=NOW)
    assert sorted(row.member_id for row in await survey_rows(database)) == [ann_id, bob_id]


async def test_the_sample_asks_the_same_people_on_a_rerun(conversation, ctx, database):
    half = replace(AFTER_PURCHASE, sample=Decimal("0.5"))
    sampled_ctx = replace(ctx, program=replace(ctx.program, surveys=(half,)))
    people = [Person(2000 + i, first_name="P", language_code="en") for i in range(12)]
    ids = {person.id: await member_with(conversation, ctx, person, 0) for person in people}
    for _ in range(2):  # the till sends every receipt twice: the second is a replay
        for person in people:
            await buy(sampled_ctx, person, f"R{person.id}")
    expected = sorted(ids[p.id] for p in people if sampled(half, ids[p.id], f"receipt:R{p.id}"))
    asked = sorted(row.member_id for row in await survey_rows(database))
    assert asked == expected
    assert 0 < len(asked) < len(people)


async def test_answers_count_per_store_in_the_figures(conversation, ctx, database):
    await member_with(conversation, ctx, ANN, 0)
    await buy(ctx, ANN, "R1", store="Harbour")
    question = await sent_question(database, ctx)
    _, nps = await conversation.handle(press(ANN, data_of(question, "4")))
    await conversation.handle(press(ANN, data_of(nps, "6"), callback_id="cb2"))
    figures = await satisfaction(ctx.reader(), NOW, NOW + timedelta(days=1))
    assert (figures.csat, figures.nps) == (Score(100.0, 1), Score(-100.0, 1))
    assert figures.by_store["Harbour"].nps == Score(-100.0, 1)


async def test_forgetting_a_member_erases_their_comments(conversation, ctx, database):
    await member_with(conversation, ctx, ANN, 0)
    await buy(ctx, ANN, "R1")
    question = await sent_question(database, ctx)
    _, nps = await conversation.handle(press(ANN, data_of(question, "1")))
    await conversation.handle(press(ANN, data_of(nps, "0"), callback_id="cb2"))
    await conversation.handle(said(ANN, "I am Ann Smith and it was awful"))
    [confirm] = await conversation.handle(said(ANN, "/forget"))
    await conversation.handle(press(ANN, data_of(confirm, "🗑"), callback_id="cb3"))
    admin = Conversation(replace(ctx, admins=frozenset({ADMIN.id})))
    [listed] = await admin.handle(said(ADMIN, "/feedback"))
    assert "No comments yet." in listed.text
    figures = await satisfaction(ctx.reader(), NOW, NOW + timedelta(days=1))
    assert figures.csat == Score(0.0, 1)  # the scores stay, anonymous


async def test_five_simultaneous_taps_on_the_last_answer_pay_the_bonus_once(
    conversation, ctx, database
):
    member_id = await member_with(conversation, ctx, ANN, 0)
    await buy(ctx, ANN, "R1")
    question = await sent_question(database, ctx)
    _, nps = await conversation.handle(press(ANN, data_of(question, "5")))
    before = await balance(ctx, member_id)
    replies = await tap_at_once(ctx, ANN, data_of(nps, "10"))
    answered_politely(replies)
    thanks = [a for r in replies for a in r if isinstance(a, Edit)]
    assert len(thanks) == 1
    assert "+20" in thanks[0].text
    assert (
        sum(r == [Answer(r[0].callback_id, render("survey_answered", "en"))] for r in replies)
        == TAPS - 1
    )
    assert await balance(ctx, member_id) == before + 20
    assert await count(database, TransactionRow, TransactionRow.c.kind == "bonus") == 1
