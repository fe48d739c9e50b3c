"""How replies react to what Telegram answers: harmless edits, blocks, 429s, refusals."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.conversation.actions import Action, Answer, Edit, Menu, Send
from bot.telegram.replies import (
    MessageNotModified,
    RecipientBlocked,
    RetryLater,
    TelegramRefused,
    bad_request,
    perform,
)


@dataclass
class ScriptedApi:
    """Raises the scripted error for each call in turn (None: success) and records calls."""

    script: list[Exception | None] = field(default_factory=list)
    done: list[Action] = field(default_factory=list)

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
    assert isinstance(bad_request("Bad Request: message is not modified: same"),
                      MessageNotModified)
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


async def test_429_is_retried_once_after_waiting():
    api = ScriptedApi([RetryLater(0), None])
    assert await perform(api, [SEND])
    assert api.done == [SEND]


async def test_a_refusal_is_logged_and_the_rest_goes_on(caplog):
    api = ScriptedApi([TelegramRefused("Bad Request: chat not found"), None])
    assert await perform(api, [SEND, ANSWER])
    assert api.done == [ANSWER]
    assert "could not carry out Send" in caplog.text
