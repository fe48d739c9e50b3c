"""/invite: the member's personal link, a share button, and how their invitations are going."""

from __future__ import annotations

from urllib.parse import quote

from bot.conversation.actions import Action, Button, Send
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.routes import Feature
from bot.conversation.texts import labels
from domain.models import Member
from domain.referrals import referral_payload
from domain.services.nudges import note_invite_shown
from domain.services.referrals import referral_stats
from messages.render import render


def invite_link(ctx: Context, member_code: str) -> str:
    """`https://t.me/<bot>?start=r-<code>`: opening it and pressing Start joins as a friend."""
    return f"https://t.me/{ctx.bot_username}?start={referral_payload(member_code)}"


async def show_invite(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """The link, the bonuses, friends joined and qualified, the next milestone."""
    assert member.code is not None
    link = invite_link(ctx, member.code)
    stats = await referral_stats(ctx.reader(), ctx.program, member.id)
    await note_invite_shown(ctx.writer(), member.id, ctx.clock())
    rules = ctx.program.referrals
    text = render("invite", member.locale, link=link, stats=stats, rules=rules, program=ctx.program)
    share_text = render(
        "invite_share", member.locale, program=ctx.program, bonus=rules.invitee_bonus
    )
    share = f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(share_text)}"
    return [
        Send(event.chat_id, text, buttons=((Button(labels(member.locale)["share"], url=share),),))
    ]


FEATURE = Feature(
    "invite",
    "member",
    commands={"invite": show_invite},
    labels={"menu_invite": show_invite},
)
