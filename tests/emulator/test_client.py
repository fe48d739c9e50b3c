"""The Python API of simulated users and groups."""

from __future__ import annotations

import asyncio

import pytest

from bot.emulator import Emulator, InlineButton
from tests.emulator.conftest import Api

MENU = {
    "inline_keyboard": [
        [
            {"text": "Balance", "callback_data": "balance"},
            {"text": "Redeem", "callback_data": "redeem"},
        ],
        [{"text": "Website", "url": "https://example.com"}],
    ]
}


async def test_user_is_created_once(emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    assert emu.user(1001) is ann
    assert ann.id == 1001
    with pytest.raises(ValueError, match="positive"):
        emu.user(-1)


async def test_wait_for_message_reads_in_order_and_times_out(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    await ann.start()
    await api("sendMessage", chat_id=1001, text="one")
    await api("sendMessage", chat_id=1001, text="two")
    assert (await ann.wait_for_message()).text == "one"
    assert (await ann.wait_for_message()).text == "two"
    with pytest.raises(TimeoutError, match="no new message"):
        await ann.wait_for_message(timeout=0.05)
    later = asyncio.create_task(ann.wait_for_message(timeout=5))
    await asyncio.sleep(0.01)
    await api("sendMessage", chat_id=1001, text="three")
    assert (await later).text == "three"
    assert [m.text for m in ann.messages] == ["one", "two", "three"]


async def test_press_by_text_and_by_index(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    await ann.start()
    await api("sendMessage", chat_id=1001, text="Old menu", reply_markup=MENU)
    await api("sendMessage", chat_id=1001, text="New menu", reply_markup=MENU)
    message = ann.messages[-1]
    assert message.buttons == [
        [InlineButton("Balance", "balance", None), InlineButton("Redeem", "redeem", None)],
        [InlineButton("Website", None, "https://example.com")],
    ]
    press = await ann.press("Redeem")
    assert press.data == "redeem"
    assert press.answer is None
    _, body = await api("getUpdates")
    assert body["result"][-1]["callback_query"]["message"]["message_id"] == message.message_id
    by_index = await ann.press(ann.messages[0], 0)
    assert by_index.data == "balance"
    with pytest.raises(ValueError, match="no callback data"):
        await ann.press("Website")
    with pytest.raises(LookupError):
        await ann.press("Nope")
    with pytest.raises(LookupError):
        await ann.press(message, 7)
    await api("answerCallbackQuery", callback_query_id=press.id, text="Done")
    assert (await press.answered()).text == "Done"
    with pytest.raises(TimeoutError):
        await by_index.answered(timeout=0.05)


async def test_messages_show_the_current_state(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    await ann.start()
    _, sent = await api(
        "sendMessage", chat_id=1001, text="<b>Hi</b>", parse_mode="HTML", reply_markup=MENU
    )
    message_id = sent["result"]["message_id"]
    await api("editMessageText", chat_id=1001, message_id=message_id, text="Bye")
    (message,) = ann.messages
    assert (message.text, message.html, message.entities) == ("Bye", "Bye", [])
    assert message.edits[0].html == "<b>Hi</b>"
    assert message.raw["text"] == "Bye"
    assert "entities" not in message.raw


async def test_wait_until_and_call_log(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    await ann.start()
    waiting = asyncio.create_task(emu.wait_until(lambda: emu.calls_to("sendMessage")))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    await api("sendMessage", chat_id=1001, text="x")
    await waiting
    assert emu.calls[-1].method == "sendMessage"


async def test_group_inbox_and_membership(api: Api, emu: Emulator) -> None:
    group = emu.group(-5001, title="Friends")
    assert emu.group(-5001) is group
    ann = emu.user(1001, "Ann")
    group.set_member(ann, "administrator")
    await api("sendMessage", chat_id=-5001, text="Welcome")
    assert (await group.wait_for_message()).text == "Welcome"
    _, body = await api("getChatMember", chat_id=-5001, user_id=1001)
    assert body["result"]["status"] == "administrator"
    with pytest.raises(ValueError, match="negative"):
        emu.group(5)
    with pytest.raises(ValueError, match="status"):
        group.set_member(ann, "emperor")


async def test_hand_made_update(api: Api, emu: Emulator) -> None:
    emu.emit(
        "poll_answer",
        {"poll_id": "1", "option_ids": [0], "user": {"id": 1, "is_bot": False, "first_name": "A"}},
    )
    _, body = await api("getUpdates")
    assert body["result"][0]["poll_answer"]["poll_id"] == "1"
