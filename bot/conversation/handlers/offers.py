"""/offers: the promotions running now and starting soon for the member's tier, their times
on the member's own clock (their time zone, else the program's)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.conversation.actions import Action, Send
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.routes import Feature
from domain.models import Member
from domain.promotions import Offer, local_time, offers
from messages.render import render


async def show_offers(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """What is on now and soon, or that nothing is."""
    program = ctx.program
    found = offers(program.promotions, member.tier, local_time(ctx.clock(), program.info.timezone))
    zone = member.timezone or program.info.timezone
    shown = [_on_clock(offer, program.info.timezone, zone) for offer in found]
    text = render(
        "offers",
        member.locale,
        program=program,
        running=[o for o in shown if o.running],
        soon=[o for o in shown if not o.running],
    )
    return [Send(event.chat_id, text)]


def _on_clock(offer: Offer, program_zone: str, member_zone: str) -> Offer:
    """The offer's times moved from the program's clock to the member's."""

    def moved(moment: datetime) -> datetime:
        aware = moment.replace(tzinfo=ZoneInfo(program_zone))
        return aware.astimezone(ZoneInfo(member_zone)).replace(tzinfo=None)

    return replace(offer, starts=moved(offer.starts), ends=moved(offer.ends))


FEATURE = Feature(
    "offers",
    "member",
    commands={"offers": show_offers},
)
