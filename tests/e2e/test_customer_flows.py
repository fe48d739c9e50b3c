"""Every customer flow end to end: the real bot, each framework, the emulator over HTTP."""

from __future__ import annotations

from bot.emulator import Emulator


async def test_join_card_balance(telegram: Emulator):
    ann = telegram.user(1001, "Ann", language_code="en")
    await ann.send("/start")
    welcome = await ann.wait_for_message()
    assert "Welcome to Northwind Rewards, Ann!" in welcome.text
    assert [b.text for b in welcome.reply_keyboard[0]] == ["💳 Card", "⭐ Points"]
    assert welcome.reply_keyboard[-1][0].request_contact
    await ann.send("💳 Card")
    card = await ann.wait_for_message()
    assert card.photo is not None
    assert card.photo.startswith(b"\x89PNG")
    assert "Member code:" in card.caption
    await ann.send("/balance")
    assert "50 points" in (await ann.wait_for_message()).text


async def test_the_command_menu_is_set_per_language(telegram: Emulator):
    assert ("card", "Your loyalty card") in [
        (c["command"], c["description"]) for c in telegram.commands()
    ]
    spanish = telegram.commands(language_code="es")
    assert ("card", "Tu tarjeta de fidelidad") in [
        (c["command"], c["description"]) for c in spanish
    ]


async def test_referral_between_two_people(telegram: Emulator):
    ann = telegram.user(1001, "Ann", language_code="en")
    await ann.send("/start")
    await ann.wait_for_message()
    await ann.send("/invite")
    invite = await ann.wait_for_message()
    link = next(word for word in invite.text.split() if word.startswith("https://t.me/"))
    payload = link.split("?start=")[1]
    bea = telegram.user(1002, "Bea", language_code="es")
    await bea.send(f"/start {payload}")
    welcome = await bea.wait_for_message()
    assert "Recibiste 100 puntos" in welcome.text
    note = await ann.wait_for_message()  # delivered from the outbox
    assert "A friend joined through your link!" in note.text
    await ann.send("/invite")
    assert "Friends joined: 1 · qualified: 0" in (await ann.wait_for_message()).text


async def test_redeem_with_a_double_tap_and_a_forged_button(telegram: Emulator):
    ann = telegram.user(1001, "Ann", language_code="en")
    await ann.send("/start")
    await ann.wait_for_message()
    await ann.send("/rewards")
    catalogue = await ann.wait_for_message()
    assert "You have 50 points." in catalogue.text
    await ann.press("Free coffee · 150")
    await telegram.wait_until(lambda: "You need 100 more points." in ann.messages[-1].text)
    forged = await ann.press_data("rc:coffee:abcdefgh:AAAAAAAA")
    refusal = await forged.answered()
    assert refusal.text == "This button is not valid any more. Please use the menu."


async def test_unknown_input_stickers_and_groups(telegram: Emulator):
    ann = telegram.user(1001, "Ann", language_code="en")
    await ann.send("/balance")
    assert "Send /start to join" in (await ann.wait_for_message()).text
    await ann.send("/start")
    await ann.wait_for_message()
    await ann.send_sticker()
    assert "/help" in (await ann.wait_for_message()).text
    group = telegram.group(-5001, "Friends")
    await ann.send_in(group, "/balance@northwind_loyalty_bot")
    assert "@northwind_loyalty_bot" in (await group.wait_for_message()).text


async def test_html_in_a_name_is_escaped(telegram: Emulator):
    tricky = telegram.user(1003, "<b>Bo & Co</b>", language_code="en")
    await tricky.send("/start")
    welcome = await tricky.wait_for_message()
    assert "<b>Bo & Co</b>" in welcome.text  # shown as typed, not as markup


async def test_donate_typed_amount(telegram: Emulator):
    ann = telegram.user(1001, "Ann", language_code="en")
    await ann.send("/start")
    await ann.wait_for_message()
    await ann.send("/donate")
    await ann.wait_for_message()
    await ann.press("Plant trees")
    await telegram.wait_until(lambda: "How many would you like" in ann.messages[-1].text)
    await ann.send("50")
    confirm = await ann.wait_for_message()
    assert "Give 50 points to Plant trees?" in confirm.text
    await ann.press("✅ Donate")
    await telegram.wait_until(lambda: "You gave 50 points to Plant trees." in ann.messages[-1].text)
