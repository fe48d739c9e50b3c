"""How replies react to what Telegram answers: harmless edits, blocks, 429s, network
trouble, refusals; each message in its turn, and a reply given up only after PATIENCE."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.conversation.actions import Action, Answer, Edit, Menu, Send
from bot.telegram.pace import Pace
from bot.telegram.replies import (
    PATIENCE,
    MessageNotModified,
    RecipientBlocked,
    RetryLater,
    TelegramRefused,
    TelegramUnreachable,
    bad_request,
    perform,
)


class FakeTime:
    """A clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


@dataclass
class ScriptedApi:
    """Raises the scripted error for each call in turn (None: success) and records calls."""

    script: list[Exception | None] = field(default_factory=list)
    done: list[Action] = field(default_factory=list)
    time: FakeTime = field(default_factory=FakeTime)

    def __post_init__(self) -> None:
        self.pace = Pace(clock=self.time.clock, sleep=self.time.sleep)

    async def _call(self, action: Action) -> None:
        error = self.script.pop(0) if self.script else None
        if error is not None:
            raise error
        self.done.append(action)

    async def send(self, action: Send) -> None:
        await self._call(action)

    async def edit(self, action: Edit) -> None:
        await self._call(action)

    async def answer(self, action: Answer) -> None:
        await self._call(action)

    async def menu(self, action: Menu) -> None:
        await self._call(action)


ANSWER, EDIT, SEND = Answer("cb"), Edit(1, 2, "x"), Send(1, "y")


def test_bad_requests_are_classified():
    assert isinstance(bad_request("Bad Request: message is not modified: same"), MessageNotModified)
    refused = bad_request("Bad Request: can't parse entities")
    assert type(refused) is TelegramRefused


async def test_an_unchanged_edit_is_skipped_and_the_rest_goes_on():
    api = ScriptedApi([None, MessageNotModified("same"), None])
    assert await perform(api, [ANSWER, EDIT, SEND])
    assert api.done == [ANSWER, SEND]


async def test_a_block_stops_and_reports():
    api = ScriptedApi([RecipientBlocked("blocked")])
    assert not await perform(api, [SEND, SEND])
    assert api.done == []


async def test_429s_are_waited_out_as_often_as_needed(caplog):
    api = ScriptedApi([RetryLater(3)] * 6)
    assert await perform(api, [SEND])
    assert api.done == [SEND]
    assert api.time.slept == [3] * 6
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage() == (
        "reply to chat 1 went out after waiting 18.0 s (Telegram's limits)"
    )


async def test_network_trouble_is_retried_with_backoff():
    api = ScriptedApi([TelegramUnreachable("timeout")] * 7)
    assert await perform(api, [ANSWER])
    assert api.done == [ANSWER]
    assert api.time.slept == [1, 2, 4, 8, 16, 30, 30]


async def test_a_reply_is_given_up_when_its_wait_would_pass_patience(caplog):
    wait = int(PATIENCE * 2 / 3)
    api = ScriptedApi([RetryLater(wait)] * 3)
    assert await perform(api, [SEND, SEND])
    assert api.done == []
    assert api.time.slept == [wait]  # the second wait would end past PATIENCE
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == (
        f"reply to chat 1 given up after waiting {wait} s: 429: retry after {wait} s"
    )


async def test_a_refusal_is_logged_in_one_line_and_the_rest_goes_on(caplog):
    api = ScriptedApi([TelegramRefused("Bad Request: chat not found"), None])
    assert await perform(api, [SEND, ANSWER])
    assert api.done == [ANSWER]
    [record] = caplog.records
    assert record.getMessage() == "Telegram refused a Send to chat 1: Bad Request: chat not found"
    assert record.exc_info is None
    assert api.time.slept == []  # a 400 is not retried


async def test_messages_to_one_chat_take_their_turns():
    api = ScriptedApi()
    assert await perform(api, [SEND] * 5 + [ANSWER])
    assert api.done == [SEND] * 5 + [ANSWER]
    assert api.time.slept == [1, 1]  # three at once, then one a second; answers are free
