"""A broadcast's gift button, pressed by a member: bonus points or a voucher, once."""

from __future__ import annotations

from bot.conversation.actions import Action, Answer, Send
from bot.conversation.buttons import Press
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import callback_id, refused
from bot.conversation.routes import Feature
from domain.errors import NotFound, RewardUnavailable
from domain.models import Member
from domain.services.gifts import claim_gift
from messages.render import render

GIFT = "bg"  # button action: claim a broadcast's gift (broadcast id); the outbox signs it


async def gift_pressed(ctx: Context, event: Incoming, member: Member, press: Press) -> list[Action]:
    """Claim the gift of the broadcast the button came with."""
    if len(press.args) != 1 or not press.args[0].isdigit():
        return refused(event, member.locale, "gone")
    try:
        gift = await claim_gift(
            ctx.writer(),
            ctx.program,
            member_id=member.id,
            broadcast_id=int(press.args[0]),
            now=ctx.clock(),
        )
    except NotFound:
        return refused(event, member.locale, "gone")
    except RewardUnavailable as unavailable:
        return [
            Answer(
                callback_id(event),
                render("refusal", member.locale, reason=unavailable.reason),
                alert=True,
            )
        ]
    if gift.again:
        return [Answer(callback_id(event), render("refusal", member.locale, reason="already_done"))]
    return [
        Send(
            event.chat_id,
            render(
                "gift_received",
                member.locale,
                gift=gift,
                zone=member.timezone or ctx.program.info.timezone,
            ),
        )
    ]


FEATURE = Feature(
    "gift",
    "member",
    buttons={GIFT: gift_pressed},
)
