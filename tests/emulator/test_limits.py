"""Flood limits (429 retry_after) and blocked users (403)."""

from __future__ import annotations

import asyncio

import pytest

from bot.emulator import Emulator
from bot.emulator.limits import LimitSettings, RateLimiter
from tests.emulator.conftest import Api, png


@pytest.fixture
async def users(emu: Emulator) -> list[int]:
    ids = []
    for user_id in (1001, 1002, 1003, 1004):
        user = emu.user(user_id, f"User{user_id}")
        await user.start()
        ids.append(user_id)
    return ids


async def test_limits_are_off_by_default(api: Api, users: list[int]) -> None:
    for _ in range(40):
        assert (await api("sendMessage", chat_id=users[0], text="x"))[0] == 200


async def test_per_chat_limit(api: Api, emu: Emulator, users: list[int]) -> None:
    emu.limits(per_chat_per_second=1, per_chat_burst=2)
    assert (await api("sendMessage", chat_id=users[0], text="1"))[0] == 200
    assert (await api("sendMessage", chat_id=users[0], text="2"))[0] == 200
    status, body = await api("sendMessage", chat_id=users[0], text="3")
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert (await api("sendMessage", chat_id=users[1], text="other chat"))[0] == 200
    assert len(emu.user(users[0]).messages) == 2  # the refused one was not delivered


async def test_group_limit_per_minute(api: Api, emu: Emulator) -> None:
    group = emu.group(-5001, "Friends")
    emu.limits(per_chat_per_second=100, per_chat_burst=100, per_group_per_minute=20)
    for number in range(20):
        assert (await api("sendMessage", chat_id=group.chat_id, text=str(number)))[0] == 200
    status, body = await api("sendMessage", chat_id=group.chat_id, text="21st")
    assert status == 429
    assert 2 <= body["parameters"]["retry_after"] <= 3


async def test_global_limit(api: Api, emu: Emulator, users: list[int]) -> None:
    emu.limits(global_per_second=30, global_burst=3)
    for user_id in users[:3]:
        assert (await api("sendMessage", chat_id=user_id, text="x"))[0] == 200
    status, body = await api("sendMessage", chat_id=users[3], text="x")
    assert status == 429
    assert body["parameters"]["retry_after"] == 1
    emu.limits(enabled=False)
    assert (await api("sendMessage", chat_id=users[3], text="x"))[0] == 200


async def test_photos_count_and_chat_actions_do_not(
    api: Api, emu: Emulator, users: list[int]
) -> None:
    _, first = await api("sendPhoto", chat_id=users[0], photo=emu.base_url + "/nothing")
    assert first["description"] == "Bad Request: failed to get HTTP URL content"
    record = emu.state.store_file(png(2, 2), "photos", "png", 2, 2)
    emu.limits(per_chat_burst=1)
    assert (await api("sendPhoto", chat_id=users[0], photo=record.file_id))[0] == 200
    assert (await api("sendPhoto", chat_id=users[0], photo=record.file_id))[0] == 429
    assert (await api("sendChatAction", chat_id=users[0], action="typing"))[0] == 200


def test_bucket_refills_with_time() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limiter.configure(LimitSettings(enabled=True, per_chat_per_second=1, per_chat_burst=1))
    assert limiter.check(1, False) == 0
    assert limiter.check(1, False) == 1
    now[0] = 0.5
    assert limiter.check(1, False) == 1
    now[0] = 1.01
    assert limiter.check(1, False) == 0
    limiter.configure(LimitSettings(enabled=True, per_chat_per_second=0.2, per_chat_burst=1))
    assert limiter.check(1, False) == 0
    assert limiter.check(1, False) == 5


async def test_blocked_user_gets_403_until_unblocking(
    api: Api, emu: Emulator, users: list[int]
) -> None:
    ann = emu.user(users[0])
    await ann.block_bot()
    assert ann.blocked
    for method, params in [
        ("sendMessage", {"text": "x"}),
        ("sendPhoto", {"photo": "AgACnone"}),
        ("sendChatAction", {"action": "typing"}),
    ]:
        status, body = await api(method, chat_id=ann.id, **params)
        if method == "sendPhoto":
            assert status == 400  # a bad file is refused first
            continue
        assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    await ann.unblock_bot()
    assert (await api("sendMessage", chat_id=ann.id, text="welcome back"))[0] == 200


async def test_edit_in_blocked_chat_is_forbidden(api: Api, emu: Emulator, users: list[int]) -> None:
    _, sent = await api("sendMessage", chat_id=users[0], text="x")
    await emu.user(users[0]).block_bot()
    status, body = await api(
        "editMessageText", chat_id=users[0], message_id=sent["result"]["message_id"], text="y"
    )
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")


async def test_paid_broadcasts_have_their_own_bulk_limit(
    api: Api, emu: Emulator, users: list[int]
) -> None:
    emu.limits(global_per_second=1, global_burst=1, paid_per_second=1, paid_burst=2)
    assert (await api("sendMessage", chat_id=users[0], text="free"))[0] == 200
    assert (await api("sendMessage", chat_id=users[1], text="free"))[0] == 429
    for user_id in users[1:3]:
        status, _ = await api(
            "sendMessage", chat_id=user_id, text="paid", allow_paid_broadcast=True
        )
        assert status == 200
    status, _ = await api("sendMessage", chat_id=users[3], text="paid", allow_paid_broadcast=True)
    assert status == 429


async def test_a_forced_429_answers_the_next_send_only(
    api: Api, emu: Emulator, users: list[int]
) -> None:
    emu.force_429(retry_after=2)
    status, body = await api("sendMessage", chat_id=users[0], text="x")
    assert (status, body["parameters"]) == (429, {"retry_after": 2})
    assert (await api("sendMessage", chat_id=users[0], text="x"))[0] == 200


def test_the_default_limits_are_telegrams() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limiter.configure(LimitSettings(enabled=True))
    assert [limiter.check(chat, False) for chat in range(30)] == [0] * 30  # a second's worth
    assert limiter.check(31, False) == 1  # then about 30 a second
    now[0] += 1.0
    assert [limiter.check(100, False) for _ in range(4)] == [0, 0, 0, 1]  # a burst of three
    now[0] += 1.0
    assert limiter.check(100, False) == 0  # then one a second in a chat


async def test_a_slow_answer_comes_after_the_message_is_delivered(
    api: Api, emu: Emulator, users: list[int]
) -> None:
    emu.answer_slowly(0.5)
    call = asyncio.create_task(api("sendMessage", chat_id=users[0], text="slow"))
    await emu.wait_until(lambda: emu.user(users[0]).messages)
    assert not call.done()
    assert (await call)[0] == 200
