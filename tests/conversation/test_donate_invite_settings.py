"""Donations (preset and typed amounts), invitations, settings and forgetting, through the core."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from bot.conversation.actions import Answer, Edit, Menu, Send
from bot.conversation.core import Conversation
from bot.conversation.events import Person
from domain.referrals import referral_payload
from tests.conversation.conftest import data_of, member_with, press, said

ANN = Person(1001, first_name="Ann", language_code="en")
BOB = Person(1002, first_name="Bob", language_code="en")


async def test_donating_a_preset_amount(conversation, ctx):
    await member_with(conversation, ctx, ANN, 250)  # 300 points
    [causes] = await conversation.handle(said(ANN, "🌱 Donate"))
    assert "<b>Plant trees</b>: 0 of 100,000 points" in causes.text
    _, ask = await conversation.handle(press(ANN, data_of(causes, "Plant trees")))
    assert "100 points = 1 tree" in ask.text
    assert [b.text for b in ask.buttons[0]] == ["100", "200"]  # 5 and 10 trees are too dear
    _, confirm = await conversation.handle(press(ANN, data_of(ask, "200")))
    assert "Give <b>200</b> points to <b>Plant trees</b>? That is 2 trees." in confirm.text
    yes = data_of(confirm, "✅ Donate")
    _, thanks = await conversation.handle(press(ANN, yes))
    assert "You gave <b>200</b> points to <b>Plant trees</b>." in thanks.text
    assert "make 2 trees" in thanks.text
    assert "You have 100 points left." in thanks.text
    [again] = await conversation.handle(press(ANN, yes, callback_id="cb2"))
    assert again == Answer("cb2", "Already done: nothing was spent twice.")


async def test_donating_a_typed_amount_survives_a_restart(conversation, ctx):
    await member_with(conversation, ctx, ANN, 250)
    [causes] = await conversation.handle(said(ANN, "/donate"))
    await conversation.handle(press(ANN, data_of(causes, "School meals")))
    restarted = Conversation(ctx)  # a new process: the step lives in the database
    [wrong] = await restarted.handle(said(ANN, "lots"))
    assert "whole number" in wrong.text
    assert "From 1 to 300." in wrong.text
    [too_much] = await restarted.handle(said(ANN, "301"))
    assert too_much.text == "That is too large: at most 300."
    [confirm] = await restarted.handle(said(ANN, "150"))
    assert isinstance(confirm, Send)
    assert "That is 3 meals." in confirm.text
    _, thanks = await restarted.handle(press(ANN, data_of(confirm, "✅ Donate")))
    assert "You have 150 points left." in thanks.text
    [after] = await restarted.handle(said(ANN, "150"))  # the step is over
    assert "/help" in after.text


async def test_a_command_leaves_the_donation_step(conversation, ctx):
    await member_with(conversation, ctx, ANN, 0)
    [causes] = await conversation.handle(said(ANN, "/donate"))
    await conversation.handle(press(ANN, data_of(causes, "Plant trees")))
    await conversation.handle(said(ANN, "/balance"))
    [reply] = await conversation.handle(said(ANN, "20"))
    assert "/help" in reply.text


async def test_start_leaves_a_step_like_every_command(conversation, ctx):
    await member_with(conversation, ctx, ANN, 0)
    [causes] = await conversation.handle(said(ANN, "/donate"))
    await conversation.handle(press(ANN, data_of(causes, "Plant trees")))
    [welcome] = await conversation.handle(said(ANN, "/start"))
    assert "Welcome back" in welcome.text
    [reply] = await conversation.handle(said(ANN, "20"))
    assert "/help" in reply.text


async def test_invite_shows_the_link_the_share_button_and_progress(conversation, ctx):
    await member_with(conversation, ctx, ANN, 0)
    async with ctx.reader() as uow:
        ann = await uow.members.by_telegram_id(ANN.id)
    link = f"https://t.me/northwind_loyalty_bot?start={referral_payload(ann.code)}"
    await conversation.handle(said(BOB, f"/start {referral_payload(ann.code)}"))
    [invite] = await conversation.handle(said(ANN, "🤝 Invite"))
    assert link in invite.text
    assert "Friends joined: 1 · qualified: 0" in invite.text
    assert "Next milestone: 3 friends, +300 points." in invite.text
    share = invite.buttons[0][0]
    assert share.text == "📤 Share my link"
    query = parse_qs(urlparse(share.url).query)
    assert query["url"] == [link]
    assert "50 extra points" in query["text"][0]


async def test_settings_language_toggles_and_time_zone(conversation, ctx):
    await member_with(conversation, ctx, ANN, 0)
    [view] = await conversation.handle(said(ANN, "/settings"))
    assert "Language: English" in view.text
    assert "Time zone: America/New_York" in view.text
    _, edited = await conversation.handle(press(ANN, data_of(view, "🔔 Offers: on")))
    assert "Offers: off · Reminders: on" in edited.text
    _, edited = await conversation.handle(press(ANN, data_of(edited, "⏰ Reminders: on")))
    assert "Offers: off · Reminders: off" in edited.text
    _, spanish, menu, chat_menu = await conversation.handle(press(ANN, data_of(edited, "Español")))
    assert "Idioma: Español" in spanish.text
    assert menu.keyboard.rows[0] == ("💳 Tarjeta", "⭐ Puntos")
    # the bot-wide menu is in the program's first language: her chat gets its own
    assert isinstance(chat_menu, Menu)
    assert chat_menu.chat_id == ANN.id
    assert ("balance", "Puntos, nivel y lo que caduca") in chat_menu.commands
    assert chat_menu.app is None  # no WEB_URL: no Mini App button
    _, prompt = await conversation.handle(press(ANN, data_of(spanish, "🌍")))
    assert "Escribe tu zona horaria" in prompt.text
    [bad] = await conversation.handle(said(ANN, "Mars/Olympus"))
    assert "No conozco la zona horaria «Mars/Olympus»" in bad.text
    [saved] = await conversation.handle(said(ANN, "Europe/Madrid"))
    assert "Zona horaria: Europe/Madrid" in saved.text


async def test_forget_needs_confirmation(conversation, ctx):
    await member_with(conversation, ctx, ANN, 0)
    [ask] = await conversation.handle(said(ANN, "/forget"))
    assert "your 50 points are lost" in ask.text
    _, cancelled = await conversation.handle(press(ANN, data_of(ask, "✖ Cancel")))
    assert cancelled.text == "Cancelled: nothing changed."
    [ask] = await conversation.handle(said(ANN, "/forget"))
    _, done = await conversation.handle(press(ANN, data_of(ask, "🗑 Yes")))
    assert isinstance(done, Edit)
    assert "personal data is erased" in done.text
    [after] = await conversation.handle(said(ANN, "/balance"))
    assert "Send /start to join" in after.text
