"""getUpdates long polling, and the updates simulated users produce."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.emulator import Emulator
from tests.emulator.conftest import Api

BUTTON = {"inline_keyboard": [[{"text": "Redeem", "callback_data": "redeem:1"}]]}


async def test_offset_confirms_updates(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    for text in ("one", "two", "three"):
        await ann.send(text)
    _, body = await api("getUpdates")
    ids = [update["update_id"] for update in body["result"]]
    assert [u["message"]["text"] for u in body["result"]] == ["one", "two", "three"]
    assert ids == sorted(ids)
    assert ids[1] == ids[0] + 1
    _, again = await api("getUpdates")
    assert again["result"] == body["result"]  # nothing confirmed yet
    _, rest = await api("getUpdates", offset=ids[1])
    assert [u["update_id"] for u in rest["result"]] == ids[1:]
    _, empty = await api("getUpdates", offset=ids[-1] + 1)
    assert empty["result"] == []
    assert emu.pending_updates == 0


async def test_limit_and_negative_offset(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    for number in range(5):
        await ann.send(str(number))
    _, body = await api("getUpdates", limit=2)
    assert [u["message"]["text"] for u in body["result"]] == ["0", "1"]
    _, body = await api("getUpdates", offset=-2)
    assert [u["message"]["text"] for u in body["result"]] == ["3", "4"]
    assert emu.pending_updates == 2


async def test_timeout_returns_empty_after_waiting(api: Api) -> None:
    started = time.monotonic()
    status, body = await api("getUpdates", timeout=1)
    elapsed = time.monotonic() - started
    assert (status, body["result"]) == (200, [])
    assert 0.9 <= elapsed < 2.5


async def test_update_arriving_mid_wait_returns_at_once(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    started = time.monotonic()
    poll = asyncio.create_task(api("getUpdates", timeout=20))
    await asyncio.sleep(0.1)
    await ann.send("hello")
    _, body = await poll
    assert time.monotonic() - started < 2
    assert body["result"][0]["message"]["text"] == "hello"


async def test_second_poll_terminates_the_first(api: Api) -> None:
    first = asyncio.create_task(api("getUpdates", timeout=20))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(api("getUpdates", timeout=0))
    status, body = await first
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")
    assert (await second)[0] == 200


async def test_allowed_updates_filter(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    await ann.send("/start")
    await api("getUpdates", offset=-1, allowed_updates=["callback_query"])
    _, body = await api("getUpdates")
    assert body["result"][0]["message"]["text"] == "/start"  # queued before the filter
    offset = body["result"][0]["update_id"] + 1
    await ann.send("dropped")
    await api("sendMessage", chat_id=ann.id, text="Pick", reply_markup=BUTTON)
    await ann.press("Redeem")
    _, body = await api("getUpdates", offset=offset)
    assert [next(k for k in u if k != "update_id") for u in body["result"]] == ["callback_query"]
    _, body = await api("getUpdates", allowed_updates=[])  # back to the default
    await ann.send("kept")
    _, body = await api("getUpdates", offset=body["result"][-1]["update_id"] + 1)
    assert body["result"][0]["message"]["text"] == "kept"


async def test_get_updates_refused_while_webhook_is_set(api: Api) -> None:
    await api("setWebhook", url="http://127.0.0.1:9/hook")
    status, body = await api("getUpdates")
    assert status == 409
    assert body["description"] == (
        "Conflict: can't use getUpdates method while webhook is "
        "active; use deleteWebhook to delete the webhook first"
    )
    await api("deleteWebhook")
    assert (await api("getUpdates"))[0] == 200


async def test_set_webhook_ends_a_waiting_poll(api: Api) -> None:
    poll = asyncio.create_task(api("getUpdates", timeout=20))
    await asyncio.sleep(0.1)
    await api("setWebhook", url="http://127.0.0.1:9/hook")
    status, body = await poll
    assert (status, body["description"]) == (409, "Conflict: terminated by setWebhook request")


async def test_closing_releases_a_waiting_poll(api: Api, emu: Emulator) -> None:
    poll = asyncio.create_task(api("getUpdates", timeout=20))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    emu.state.updates.close()
    assert (await poll)[1]["result"] == []
    assert time.monotonic() - started < 1


# -- what users produce ---------------------------------------------------------------------


async def updates(api: Api) -> list[dict[str, Any]]:
    _, body = await api("getUpdates")
    result = body["result"]
    assert isinstance(result, list)
    return result


async def test_commands_and_deep_links(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann", username="ann", language_code="es")
    await ann.start("r-K7M2Q9XR")
    await ann.send("/balance@northwind_loyalty_bot now")
    await ann.send("not /a command")
    first, second, third = [u["message"] for u in await updates(api)]
    assert first["text"] == "/start r-K7M2Q9XR"
    assert first["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert first["from"] == {
        "id": 1001,
        "is_bot": False,
        "first_name": "Ann",
        "username": "ann",
        "language_code": "es",
    }
    assert first["chat"]["id"] == 1001
    assert first["chat"]["type"] == "private"
    assert second["entities"][0]["length"] == len("/balance@northwind_loyalty_bot")
    assert "entities" not in third
    assert second["message_id"] == first["message_id"] + 1


async def test_contact_and_sticker(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    await ann.share_contact("+15550001234")
    await ann.send_contact("+15550009999", "Bob")
    await ann.send_sticker("🔥")
    own, other, sticker = [u["message"] for u in await updates(api)]
    assert own["contact"] == {"phone_number": "+15550001234", "first_name": "Ann", "user_id": 1001}
    assert other["contact"] == {"phone_number": "+15550009999", "first_name": "Bob"}
    assert sticker["sticker"]["emoji"] == "🔥"
    assert sticker["sticker"]["type"] == "regular"


async def test_callback_query_payload(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    await ann.start()
    _, sent = await api("sendMessage", chat_id=1001, text="Pick", reply_markup=BUTTON)
    press = await ann.press("Redeem")
    await ann.press_data("tampered-data")
    *_, real, forged = await updates(api)
    query = real["callback_query"]
    assert query["id"] == press.id
    assert query["from"]["id"] == 1001
    assert query["data"] == "redeem:1"
    assert query["message"] == sent["result"]
    assert query["chat_instance"]
    assert forged["callback_query"]["data"] == "tampered-data"
    assert forged["callback_query"]["chat_instance"] == query["chat_instance"]


async def test_group_messages(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    group = emu.group(-5001, title="Friends")
    await ann.send_in(group, "hi all")
    (update,) = await updates(api)
    message = update["message"]
    assert message["chat"] == {"id": -5001, "type": "group", "title": "Friends"}
    assert message["from"]["id"] == 1001
    status, _ = await api("sendMessage", chat_id=-5001, text="Hello group")
    assert status == 200
    assert group.messages[0].text == "Hello group"
    _, member = await api("getChatMember", chat_id=-5001, user_id=1001)
    assert member["result"]["status"] == "member"


async def test_block_emits_my_chat_member(api: Api, emu: Emulator) -> None:
    ann = emu.user(1001, "Ann")
    await ann.start()
    await ann.block_bot()
    await ann.unblock_bot()
    await ann.block_bot()
    await ann.send("I'm back")  # writing again unblocks first
    kinds = []
    for update in (await updates(api))[1:]:
        if "my_chat_member" in update:
            change = update["my_chat_member"]
            kinds.append((change["old_chat_member"]["status"], change["new_chat_member"]["status"]))
            assert change["chat"]["id"] == 1001
            assert change["from"]["id"] == 1001
            assert change["new_chat_member"]["user"]["id"] == emu.bot.id
        else:
            kinds.append(("message", update["message"]["text"]))
    assert kinds == [
        ("member", "kicked"),
        ("kicked", "member"),
        ("member", "kicked"),
        ("kicked", "member"),
        ("message", "I'm back"),
    ]
