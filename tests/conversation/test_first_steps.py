"""Joining, the card, the balance, help and everything unexpected, through the core."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from bot.conversation.actions import Answer, Menu, Send
from bot.conversation.core import Conversation
from bot.conversation.events import Incoming, Person
from bot.conversation.menus import customer_commands
from domain.codes import format_code
from domain.earning import PurchaseLine
from domain.referrals import referral_payload
from domain.services.members import join
from domain.services.purchases import MemberRef, ReceiptIn, record_purchase
from tests.conftest import NOW
from tests.conversation.conftest import said

ANN = Person(1001, first_name="Ann <3", language_code="en")
ANA = Person(1002, first_name="Ana", language_code="es-MX")


async def test_start_joins_with_a_welcome_the_bonus_and_the_menu(conversation):
    [reply] = await conversation.handle(said(ANN, "/start"))
    assert isinstance(reply, Send)
    assert "Welcome to <b>Northwind Rewards</b>, Ann &lt;3!" in reply.text
    assert "<b>50</b> points" in reply.text
    assert reply.keyboard is not None
    assert reply.keyboard.rows[0] == ("💳 Card", "⭐ Points")
    assert reply.keyboard.contact_button == "📱 Share my phone number"


async def test_start_speaks_the_members_language(conversation):
    reply, menu = await conversation.handle(said(ANA, "/start"))
    assert "¡Te damos la bienvenida a <b>Northwind Rewards</b>, Ana!" in reply.text
    assert reply.keyboard.rows[0] == ("💳 Tarjeta", "⭐ Puntos")
    # the bot-wide menu is in the program's first language: her chat gets its own
    assert menu == Menu(ANA.id, customer_commands("es"))
    [again] = await conversation.handle(said(ANA, "/start"))  # set once, when she joined
    assert "Ana" in again.text


async def test_with_web_url_her_chats_menu_button_opens_the_mini_app_in_her_language(ctx):
    shop = Conversation(replace(ctx, web_url="https://shop.example.com"))
    _, menu = await shop.handle(said(ANA, "/start"))
    assert menu.app == ("💳 Mi tarjeta", "https://shop.example.com/app/")
    [_] = await shop.handle(said(ANN, "/start"))  # English, the program's first: bot-wide


async def test_start_twice_greets_the_member_back(conversation):
    await conversation.handle(said(ANN, "/start"))
    [reply] = await conversation.handle(said(ANN, "/start"))
    assert "Welcome back, Ann &lt;3! You have <b>50</b> points." in reply.text


async def test_a_friends_link_attributes_the_referral(conversation, ctx, program):
    friend = await join(
        ctx.writer(), program, telegram_id=7, first_name="F", language_code="en", now=NOW
    )
    [reply] = await conversation.handle(said(ANN, f"/start {referral_payload(friend.member.code)}"))
    assert "<b>100</b> points" in reply.text
    assert "Your friend's invite counted" in reply.text


async def test_bad_and_own_links_still_let_people_in(conversation, ctx, program):
    [reply] = await conversation.handle(said(ANN, "/start r-NOTACODE"))
    assert "<b>50</b> points" in reply.text
    assert "invite link was not valid" in reply.text
    reply, _ = await conversation.handle(said(ANA, "/start something-else"))
    assert "no era válido" in reply.text
    async with ctx.reader() as uow:
        ann = await uow.members.by_telegram_id(ANN.id)
    [again] = await conversation.handle(said(ANN, f"/start {referral_payload(ann.code)}"))
    assert "That was your own invite link" in again.text


async def test_card_is_a_qr_photo_with_the_code(conversation, ctx):
    await conversation.handle(said(ANN, "/start"))
    [reply] = await conversation.handle(said(ANN, "/card"))
    async with ctx.reader() as uow:
        ann = await uow.members.by_telegram_id(ANN.id)
    assert reply.photo is not None
    assert reply.photo.startswith(b"\x89PNG\r\n\x1a\n")
    assert f"<code>{format_code(ann.code)}</code>" in reply.text
    assert "Tier: <b>Member</b> · Points: <b>50</b>" in reply.text


async def test_balance_shows_progress_and_the_next_reward(conversation):
    await conversation.handle(said(ANN, "/start"))
    [reply] = await conversation.handle(said(ANN, "⭐ Points"))  # the menu button
    assert "⭐ <b>50</b> points" in reply.text
    assert "▱▱▱▱▱▱▱▱▱▱ 0%" in reply.text
    assert "500 more tier credits to reach <b>Insider</b>" in reply.text
    assert "Next reward: Free coffee, 100 points to go." in reply.text


async def test_people_who_have_not_joined_are_invited_to_start(conversation):
    for event in (
        said(ANN, "/balance"),
        said(ANN, "hello"),
        Incoming(
            "callback", ANN, chat_id=ANN.id, callback_id="cb1", callback_data="x", message_id=3
        ),
    ):
        actions = await conversation.handle(event)
        assert "Send /start to join" in actions[-1].text
    assert actions[0] == Answer("cb1")


async def test_unknown_commands_text_and_stickers_get_a_helpful_answer(conversation):
    await conversation.handle(said(ANN, "/start"))
    for text in ("/teleport", "what's up?", None):
        [reply] = await conversation.handle(said(ANN, text))
        assert "/help" in reply.text
    [reply] = await conversation.handle(said(ANN, "/help"))
    assert "/card" in reply.text


async def test_groups_get_pointed_to_a_private_chat(conversation):
    group = replace(said(ANN, "/balance@northwind_loyalty_bot"), chat_id=-500, private=False)
    [reply] = await conversation.handle(group)
    assert "@northwind_loyalty_bot" in reply.text
    assert await conversation.handle(replace(group, text="just chatting")) == []


async def test_sharing_a_phone_number(conversation, ctx):
    await conversation.handle(said(ANN, "/start"))
    own = Incoming(
        "contact", ANN, chat_id=ANN.id, contact_phone="15550001234", contact_user_id=ANN.id
    )
    [reply] = await conversation.handle(own)
    assert "<code>+15550001234</code>" in reply.text
    someone = replace(own, contact_user_id=42)
    [reply] = await conversation.handle(someone)
    assert "your own number" in reply.text
    await conversation.handle(said(ANA, "/start"))
    [reply] = await conversation.handle(
        replace(own, person=ANA, chat_id=ANA.id, contact_user_id=ANA.id)
    )
    assert "ya pertenece a otro miembro" in reply.text


async def test_blocking_marks_the_member_unreachable(conversation, ctx):
    await conversation.handle(said(ANN, "/start"))
    await conversation.handle(Incoming("blocked", ANN, chat_id=ANN.id))
    async with ctx.reader() as uow:
        assert not (await uow.members.by_telegram_id(ANN.id)).reachable
    await conversation.handle(Incoming("unblocked", ANN, chat_id=ANN.id))
    async with ctx.reader() as uow:
        assert (await uow.members.by_telegram_id(ANN.id)).reachable


async def test_an_unexpected_error_is_an_apology_and_the_next_update_works(
    conversation, monkeypatch, caplog
):
    await conversation.handle(said(ANN, "/start"))

    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("bot.conversation.handlers.account.account_summary", broken)
    [reply] = await conversation.handle(said(ANN, "/balance", update_id=77))
    assert "something went wrong" in reply.text
    assert "update 77 from user 1001 failed" in caplog.text
    monkeypatch.undo()
    [reply] = await conversation.handle(said(ANN, "/balance", update_id=78))
    assert "points" in reply.text


async def test_sharing_a_phone_credits_what_the_till_held_for_it(conversation, ctx, program):

    await record_purchase(
        ctx.writer(),
        program,
        ReceiptIn(
            "H-1",
            MemberRef("phone", "+15550001234"),
            [PurchaseLine("LATTE", "coffee", 2, Decimal("4.50"))],
        ),
        now=NOW,
    )
    await conversation.handle(said(ANN, "/start"))
    [reply] = await conversation.handle(
        Incoming(
            "contact", ANN, chat_id=ANN.id, contact_phone="15550001234", contact_user_id=ANN.id
        )
    )
    assert "We found 1 earlier purchase with this number: <b>+14</b> points." in reply.text
