"""/earn, the channel check, links (with and without approval), the phone action, /claims,
/top and the settings' birthday picker and name toggle, through the conversation core."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from bot.conversation.actions import Answer, Edit, Send
from bot.conversation.channels import CannotCheck, Membership
from bot.conversation.core import Conversation
from bot.conversation.events import Incoming
from domain.program import Action, LeaderboardRules
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from storage.checks import check_invariants
from storage.tables import ActionClaimRow, OutboxRow
from tests.conftest import NOW
from tests.conversation.conftest import (
    ADMIN,
    ANN,
    CASHIER,
    OTHER,
    TAPS,
    answered_politely,
    count,
    data_of,
    hire,
    joined,
    press,
    said,
    tap_at_once,
    text_of,
)
from tests.integration.helpers import line

CHANNEL = Action(
    "news", "Join our channel", "telegram_channel", points=50, channel="@northwind_news"
)
FOLLOW = Action("insta", "Follow us", "link", points=25, url="https://instagram.com/nw")
REVIEW = Action(
    "review", "Review us", "link", points=40, url="https://example.com/review", approval=True
)
PHONE = Action("phone", "Share your phone", "phone", points=15)
BIRTHDAY = Action("birthday", "Birthday treat", "birthday", points=100, reward="coffee")


class Channel:
    """A stand-in for getChatMember: who is in @northwind_news, or a refusal."""

    def __init__(self) -> None:
        self.members: set[int] = set()
        self.refusal: str | None = None
        self.asked = 0

    async def __call__(self, channel: str, user_id: int) -> Membership:
        self.asked += 1
        if self.refusal:
            raise CannotCheck(self.refusal)
        assert channel == "@northwind_news"
        return Membership("member" if user_id in self.members else "left")


@pytest.fixture
def channel() -> Channel:
    return Channel()


@pytest.fixture
def acting(ctx, channel):
    """The context with one action of each kind, the stand-in channel and one admin."""
    program = dataclasses.replace(ctx.program, actions=(CHANNEL, FOLLOW, REVIEW, PHONE, BIRTHDAY))
    return dataclasses.replace(ctx, program=program, channels=channel, admins=frozenset({ADMIN.id}))


@pytest.fixture
def bot(acting) -> Conversation:
    return Conversation(acting)


async def edited(bot: Conversation, event: Incoming) -> Edit:
    """The message a button press edited (its press answered first)."""
    answer, edit = await bot.handle(event)
    assert isinstance(answer, Answer)
    assert isinstance(edit, Edit)
    return edit


async def earn_message(bot: Conversation) -> Send:
    [message] = await bot.handle(said(ANN, "/earn"))
    assert isinstance(message, Send)
    return message


async def balance_of(acting, person) -> int:
    async with acting.reader() as uow:
        member = await uow.members.by_telegram_id(person.id)
        return await uow.ledger.balance(member.id)


async def test_earn_lists_every_way_and_what_is_done(bot, acting):
    await joined(bot, acting, ANN)
    message = await earn_message(bot)
    assert "🛒 Every purchase: 1 point per USD spent, plus 5 per visit." in message.text
    assert "🤝 Each friend you /invite: <b>+100</b>" in message.text
    assert (
        "📣 <b>Join our channel</b>: +50 points · join @northwind_news, then tap Check"
        in message.text
    )
    assert (
        "🔗 <b>Review us</b>: +40 points · open the link, then tap Done (we check it first)"
        in message.text
    )
    assert (
        "📱 <b>Share your phone</b>: +15 points · tap “📱 Share my phone number” below"
        in message.text
    )
    assert (
        "🎂 <b>Birthday treat</b>: +100 points and Free coffee on your birthday · set it "
        "in /settings" in message.text
    )
    rows = [[(b.text, b.url) for b in row] for row in message.buttons]
    assert [row[0] for row in rows] == [
        ("📣 Open @northwind_news", "https://t.me/northwind_news"),
        ("🔗 Open instagram.com", "https://instagram.com/nw"),
        ("🔗 Open example.com", "https://example.com/review"),
    ]
    assert [row[1][0] for row in rows] == ["✅ Check", "✅ Done", "✅ Done"]


async def test_the_channel_is_checked_with_telegram_and_paid_once(bot, acting, channel):
    await joined(bot, acting, ANN)
    check = data_of(await earn_message(bot), "✅ Check")
    [answer] = await bot.handle(press(ANN, check))
    assert answer == Answer(
        "cb", "You are not in @northwind_news yet. Join it, then tap Check again.", alert=True
    )
    channel.members.add(ANN.id)
    answer, edit = await bot.handle(press(ANN, check))
    assert answer == Answer("cb", "🎉 +50 points! Balance: 100 points.", alert=False)
    assert isinstance(edit, Edit)
    assert "✅ <b>Join our channel</b>: +50 points · done" in edit.text
    assert "✅ Check" not in [b.text for row in edit.buttons for b in row]
    [again, _] = await bot.handle(press(ANN, check))  # a stale copy of the button
    assert again == Answer("cb", "You already got the points for this one.", alert=True)
    assert await balance_of(acting, ANN) == 100


async def test_a_channel_that_cannot_be_checked(bot, acting, channel):
    await joined(bot, acting, ANN)
    check = data_of(await earn_message(bot), "✅ Check")
    channel.refusal = "Bad Request: member list is inaccessible"
    cannot = [
        Answer("cb", "Sorry, we cannot check that right now. Please try again later.", alert=True)
    ]
    assert await bot.handle(press(ANN, check)) == cannot
    unasked = Conversation(dataclasses.replace(acting, channels=None))
    assert await unasked.handle(press(ANN, check)) == cannot
    assert await balance_of(acting, ANN) == 50


async def test_five_checks_at_once_pay_once(bot, acting, channel, database):
    await joined(bot, acting, ANN)
    channel.members.add(ANN.id)
    replies = await tap_at_once(acting, ANN, data_of(await earn_message(bot), "✅ Check"))
    answered_politely(replies)
    toasts = sorted(next(a.text for a in r if isinstance(a, Answer)) for r in replies)
    assert toasts.count("🎉 +50 points! Balance: 100 points.") == 1
    assert toasts.count("You already got the points for this one.") == TAPS - 1
    assert await balance_of(acting, ANN) == 100
    assert await count(database, ActionClaimRow) == 1
    assert await check_invariants(database) == []


async def test_a_link_pays_on_done(bot, acting):
    await joined(bot, acting, ANN)
    answer, edit = await bot.handle(press(ANN, data_of(await earn_message(bot), "✅ Done")))
    assert answer.text == "🎉 +25 points! Balance: 75 points."
    assert "✅ <b>Follow us</b>: +25 points · done" in edit.text


async def test_an_approval_goes_to_the_admins_and_is_decided_once(bot, acting, database):
    await joined(bot, acting, ANN)
    review = (await earn_message(bot)).buttons[2][1].data
    answer, edit, notice = await bot.handle(press(ANN, review))
    assert answer.text == "Thanks! We will check it and let you know."
    assert "⏳ <b>Review us</b>: +40 points · waiting for approval" in edit.text
    assert notice.chat_id == ADMIN.id
    assert "<b>Ann</b>" in notice.text
    assert (
        "says they did “Review us” (https://example.com/review): +40 points if you "
        "approve." in notice.text
    )
    [again, _] = await bot.handle(press(ANN, review))
    assert again.text == "This one is still waiting for approval."
    assert len(await bot.handle(press(ANN, review))) == 2  # no second notice
    [listed] = await bot.handle(said(ADMIN, "/claims"))
    assert listed.text == notice.text
    approve = data_of(notice, "✅ Approve")
    decided = await edited(bot, press(ADMIN, approve, callback_id="a1"))
    assert decided.text.startswith("✅ Approved: Ann (<code>")
    assert decided.text.endswith("· “Review us”, +40 points.")
    late, shown = await bot.handle(press(ADMIN, data_of(listed, "✖ Reject"), callback_id="a2"))
    assert late == Answer("a2", "Already approved.", alert=True)
    assert shown.text == decided.text
    assert await balance_of(acting, ANN) == 90
    assert await count(database, OutboxRow, OutboxRow.c.template == "action_approved") == 1
    assert await text_of(bot, said(ADMIN, "/claims")) == "No claims are waiting for approval."


async def test_admins_reject_and_others_cannot_decide(bot, acting, database):
    await joined(bot, acting, ANN)
    await hire(bot, CASHIER)
    [_, _, notice] = await bot.handle(press(ANN, (await earn_message(bot)).buttons[2][1].data))
    reject = data_of(notice, "✖ Reject")
    [refused] = await bot.handle(press(ANN, reject))  # signed for the admin, not for Ann
    assert "not valid any more" in refused.text
    assert "No claims" not in await text_of(bot, said(CASHIER, "/claims"))
    [_, decided] = await bot.handle(press(ADMIN, reject))
    assert decided.text.startswith("✖️ Rejected: Ann")
    assert await balance_of(acting, ANN) == 50
    assert await count(database, OutboxRow, OutboxRow.c.template == "action_rejected") == 1
    message = await earn_message(bot)
    assert "✖️ <b>Review us</b>: +40 points · not approved" in message.text


async def test_sharing_the_phone_pays_the_phone_action_once(bot, acting):
    await joined(bot, acting, ANN)
    contact = Incoming(
        "contact", ANN, chat_id=ANN.id, contact_phone="15550001234", contact_user_id=ANN.id
    )
    [first] = await bot.handle(contact)
    assert "🎉 <b>+15</b> points for sharing your number. Balance: 65 points." in first.text
    [second] = await bot.handle(contact)
    assert "for sharing your number" not in second.text
    assert "✅ <b>Share your phone</b>" in (await earn_message(bot)).text
    assert await balance_of(acting, ANN) == 65


async def bought(acting, code: str, receipt: str, amount: str, when: datetime) -> None:
    await record_purchase(
        acting.writer(),
        acting.program,
        ReceiptIn(
            receipt,
            MemberRef("member_code", code),
            [line("X", "other", 1, amount)],
            occurred_at=when,
        ),
        now=when,
    )


async def test_top_shows_the_month_and_names_only_by_choice(bot, acting):
    ann, other = await joined(bot, acting, ANN), await joined(bot, acting, OTHER)
    await bought(acting, ann, "A1", "95", NOW - timedelta(hours=2))
    await bought(acting, other, "O1", "195", NOW - timedelta(hours=1))
    text = await text_of(bot, said(ANN, "/top"))
    assert text.startswith("🏆 <b>Top of March 2026</b>\nPoints earned with purchases this month.")
    assert "🥇 <code>" in text
    assert "🥈 <code>" in text
    assert "· 100 points ← you" in text
    assert "Others see you as a masked code; /settings lets you show your first name." in text
    [settings] = await bot.handle(said(OTHER, "/settings"))
    assert "En /top: un código oculto" in settings.text
    shown = await edited(bot, press(OTHER, data_of(settings, "🏆 Nombre en /top: no")))
    assert "En /top: tu nombre" in shown.text
    assert "🏆 Nombre en /top: sí" in [b.text for row in shown.buttons for b in row]
    text = await text_of(bot, said(ANN, "/top"))
    assert "🥇 Olga · 200 points" in text
    spanish = await text_of(bot, said(OTHER, "/top"))
    assert spanish.startswith("🏆 <b>Lo mejor de marzo de 2026</b>")
    assert "🥇 Olga · 200 puntos ← tú" in spanish
    assert "código oculto" not in spanish


async def test_top_can_be_off(bot, acting):
    await joined(bot, acting, ANN)
    off = Conversation(
        dataclasses.replace(
            acting,
            program=dataclasses.replace(
                acting.program, leaderboard=LeaderboardRules(enabled=False)
            ),
        )
    )
    assert await text_of(off, said(ANN, "/top")) == "This program has no leaderboard."
    [settings] = await off.handle(said(ANN, "/settings"))
    assert "On /top" not in settings.text
    assert not any("/top" in b.text for row in settings.buttons for b in row)


async def test_the_birthday_is_picked_with_buttons_once_a_year(bot, acting):
    await joined(bot, acting, ANN)
    [settings] = await bot.handle(said(ANN, "/settings"))
    assert "Birthday: not set" in settings.text
    months = await edited(bot, press(ANN, data_of(settings, "🎂 Birthday")))
    assert months.text == "🎂 Which month is your birthday in?"
    assert [b.text for b in months.buttons[0]] == ["Jan", "Feb", "Mar", "Apr"]
    days = await edited(bot, press(ANN, data_of(months, "Feb")))
    assert days.text == "🎂 Which day of February?"
    assert [b.text for b in days.buttons[-2]] == ["29"]  # a birthday can be on the 29th
    confirm = await edited(bot, press(ANN, data_of(days, "29")))
    assert confirm.text == (
        "🎂 Save <b>February 29</b> as your birthday? You can change it once a year."
    )
    saved = await edited(bot, press(ANN, data_of(confirm, "✅ Save")))
    assert "Birthday: February 29" in saved.text
    [locked] = await bot.handle(press(ANN, data_of(saved, "🎂 Birthday")))
    assert locked == Answer(
        "cb",
        "Your birthday is February 29, set on Mar 2, 2026. It can change once a year.",
        alert=True,
    )
    [twice] = await bot.handle(press(ANN, data_of(confirm, "✅ Save")))  # the old button
    assert twice.text == "Already done: nothing was spent twice."
    assert "yours is February 29" in (await earn_message(bot)).text
    a_year_on = Conversation(dataclasses.replace(acting, clock=lambda: NOW + timedelta(days=365)))
    months = await edited(a_year_on, press(ANN, data_of(saved, "🎂 Birthday")))
    assert months.text == "🎂 Which month is your birthday in?"
    back = await edited(a_year_on, press(ANN, data_of(months, "↩ Back")))
    assert "Birthday: February 29" in back.text


async def test_no_birthday_button_without_a_birthday_action(conversation, ctx):
    await joined(conversation, ctx, ANN)
    [settings] = await conversation.handle(said(ANN, "/settings"))
    assert "Birthday" not in settings.text
    assert not any("Birthday" in b.text for row in settings.buttons for b in row)


async def test_a_signed_but_impossible_birthday_is_refused(bot, acting):
    await joined(bot, acting, ANN)
    data = f"sk:2:30:{acting.sign(ANN.id, 'sk:2:30')}"  # 30 February
    [refusal] = await bot.handle(press(ANN, data))
    assert refusal.text == "That is not possible right now."
