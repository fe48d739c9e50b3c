"""/adjust for admins: add or remove a member's points by hand, with a reason (audited)."""

from __future__ import annotations

from bot.conversation.actions import Action, Send
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.routes import Feature
from bot.conversation.typed import TypedNumberError, whole_number
from domain.card_codes import CardCodeRefused
from domain.errors import InsufficientPoints, InvalidRequest, NotFound
from domain.services.points import MAX_ADJUSTMENT, adjust_points
from domain.services.staff import actor
from domain.services.till import member_at_till, typed_member
from messages.render import render


async def adjust_command(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """`/adjust CODE +100 reason`: add or remove points by hand (admins)."""
    parts = event.args.split(maxsplit=2)
    if len(parts) != 3:
        return [Send(event.chat_id, render("adjust_usage", clerk.locale))]
    try:
        points = whole_number(
            parts[1], minimum=-MAX_ADJUSTMENT, maximum=MAX_ADJUSTMENT, signed=True
        )
    except TypedNumberError as refusal:
        return [
            Send(
                event.chat_id, render("typed_refusal", clerk.locale, refusal=refusal, currency=None)
            )
        ]
    try:
        member = await member_at_till(ctx.reader(), typed_member(parts[0], ctx.card_check()))
        if member is None:
            raise NotFound("member", parts[0])
        balance = await adjust_points(
            ctx.writer(),
            ctx.program,
            member_id=member.id,
            points=points,
            reason=parts[2],
            actor=actor(clerk.telegram_id),
            now=ctx.clock(),
        )
    except NotFound:
        return [
            Send(event.chat_id, render("till_refusal", clerk.locale, reason="member_not_found"))
        ]
    except InsufficientPoints as short:
        return [
            Send(
                event.chat_id,
                render(
                    "till_refusal", clerk.locale, reason="insufficient", available=short.available
                ),
            )
        ]
    except CardCodeRefused:
        return [Send(event.chat_id, render("till_refusal", clerk.locale, reason="card_code"))]
    except InvalidRequest:
        return [Send(event.chat_id, render("adjust_usage", clerk.locale))]
    return [
        Send(
            event.chat_id,
            render("adjusted", clerk.locale, member=member, points=points, balance=balance),
        )
    ]


FEATURE = Feature(
    "adjust",
    "admin",
    commands={"adjust": adjust_command},
)
