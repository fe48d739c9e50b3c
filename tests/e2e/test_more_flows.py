"""The remaining flows end to end: history pages, a double tap, vouchers, settings, forget."""

from __future__ import annotations

import asyncio

from bot.emulator import Emulator, SimulatedUser


async def joined(telegram: Emulator, user_id: int = 1001) -> SimulatedUser:
    person = telegram.user(user_id, "Ann", language_code="en")
    await person.send("/start")
    await person.wait_for_message()
    return person


async def test_a_reward_out_of_reach_and_no_vouchers_yet(telegram: Emulator):
    ann = await joined(telegram)
    await ann.send("/rewards")
    await ann.wait_for_message()
    await ann.press("Free coffee · 150")
    await telegram.wait_until(lambda: "You need 100 more points." in ann.messages[-1].text)
    await ann.send("/vouchers")
    assert "You have no vouchers yet." in (await ann.wait_for_message()).text


async def test_history_settings_and_forget(telegram: Emulator):
    ann = await joined(telegram)
    await ann.send("/history")
    history = await ann.wait_for_message()
    assert "Welcome bonus: +50" in history.text
    await ann.send("/settings")
    settings = await ann.wait_for_message()
    assert "Language: English" in settings.text
    await ann.press("Español")
    menu = await ann.wait_for_message()
    assert menu.text == "Idioma cambiado. 👍"
    assert [b.text for b in menu.reply_keyboard[0]] == ["💳 Tarjeta", "⭐ Puntos"]
    assert "Idioma: Español" in ann.messages[-2].text  # the settings message, edited
    await ann.send("/forget")
    await ann.wait_for_message()
    await ann.press("🗑 Sí, borrar mis datos")
    await telegram.wait_until(
        lambda: "datos personales están borrados" in (ann.messages[-1].text or "")
    )
    await ann.send("/balance")
    assert "/start" in (await ann.wait_for_message()).text


async def test_two_presses_of_one_confirm_button_at_once(telegram: Emulator):
    ann = await joined(telegram)
    await ann.send("/donate")
    await ann.wait_for_message()
    await ann.press("School meals")
    await telegram.wait_until(lambda: "How many" in ann.messages[-1].text)
    await ann.press("50")
    await telegram.wait_until(lambda: "Give 50 points" in ann.messages[-1].text)
    confirm = ann.messages[-1]
    first, second = await asyncio.gather(ann.press(confirm, 0), ann.press(confirm, 0))
    answers = {(await first.answered()).text, (await second.answered()).text}
    assert "Already done: nothing was spent twice." in answers
    await ann.send("/balance")
    assert "⭐ 0 points" in (await ann.wait_for_message()).text
