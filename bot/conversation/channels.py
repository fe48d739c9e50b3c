"""Asking Telegram whether a member is in a channel (getChatMember), for the channel action.

The conversation core calls a `ChannelLookup` that the running adapter provides; without
one (the terminal chat, tests) every check "cannot check right now". At start-up,
`warn_unchecked_channels` asks about the bot itself in each channel of the program's
actions: Telegram answers questions about a channel's members only to its administrators,
so one clear warning per channel tells the merchant what to fix before members try.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from domain.program import Program

log = logging.getLogger(__name__)

ADMIN_STATUSES = frozenset({"administrator", "creator"})


@dataclass(frozen=True)
class Membership:
    """A user's standing in a chat as getChatMember tells it; `is_member` is set for a
    restricted user still in it."""

    status: str
    is_member: bool = False


class CannotCheck(Exception):
    """Telegram would not say: the bot is no administrator of the channel, the channel is
    unknown, or Telegram could not be reached."""


ChannelLookup = Callable[[str, int], Awaitable[Membership]]
"""(channel "@name", Telegram user id) -> their membership; raises CannotCheck."""


async def warn_unchecked_channels(
    program: Program, lookup: ChannelLookup, bot_id: int
) -> list[str]:
    """Log one warning for each channel action the bot cannot check; those channels."""
    unchecked = []
    for action in program.actions:
        if action.channel is None:
            continue
        try:
            membership = await lookup(action.channel, bot_id)
        except CannotCheck as refusal:
            reason = str(refusal)
        else:
            if membership.status in ADMIN_STATUSES:
                continue
            reason = f"the bot is {membership.status!r} there"
        log.warning(
            "action %r: the bot cannot check who joined %s (%s); make the bot an "
            "administrator of the channel. Until then members who tap Check are told "
            "it cannot be checked right now",
            action.id,
            action.channel,
            reason,
        )
        unchecked.append(action.channel)
    return unchecked
