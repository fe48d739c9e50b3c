"""Small helpers that several feature handlers share."""

from __future__ import annotations

from bot.conversation.actions import Action, Answer
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from domain.models import Member
from messages.render import render


async def current_balance(ctx: Context, member: Member) -> int:
    """The member's balance, read now."""
    async with ctx.reader() as uow:
        return await uow.ledger.balance(member.id)


def callback_id(event: Incoming) -> str:
    """The id of the button press being handled (handlers of presses only)."""
    assert event.callback_id is not None, "not a button press"
    return event.callback_id


def message_id(event: Incoming) -> int:
    """The id of the message whose button was pressed, to edit it in place."""
    assert event.message_id is not None, "not a button press"
    return event.message_id


def refused(event: Incoming, locale: str, reason: str) -> list[Action]:
    """Answer a pressed button with a short refusal: stale, gone, already done."""
    return [Answer(callback_id(event), render("refusal", locale, reason=reason))]


def answered(event: Incoming, actions: list[Action]) -> list[Action]:
    """A press's actions, answering the press first unless a handler already did."""
    if any(isinstance(action, Answer) for action in actions):
        return actions
    return [Answer(callback_id(event)), *actions]
