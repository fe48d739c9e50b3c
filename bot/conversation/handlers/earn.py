"""/earn: every way to earn, what is already done, and the buttons of the actions that earn
once: "Check" after joining the channel (asked of Telegram with getChatMember), "Done"
after following a link (sent to the admins first when it needs approval)."""

from __future__ import annotations

import logging
from datetime import date
from urllib.parse import urlparse

from bot.conversation.actions import Action, Answer, Button, Edit, Send
from bot.conversation.buttons import Press, button
from bot.conversation.channels import CannotCheck
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.claims import claim_notice
from bot.conversation.handlers.common import callback_id, message_id, refused
from bot.conversation.routes import Feature
from bot.conversation.texts import labels
from domain.actions import is_channel_member
from domain.models import Member
from domain.program import Action as ProgramAction
from domain.services.actions import Claimed, channel_joined, earn_overview, link_done
from domain.services.birthdays import LEAP_YEAR
from domain.services.members import member_locales
from messages.render import render

log = logging.getLogger(__name__)

CHECK = "ek"  # button action: check that I joined the channel (action id)
DONE = "eo"  # button action: I followed the link (action id)

Rows = tuple[tuple[Button, ...], ...]


async def show_earn(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """Every way to earn, with a button row for each action still to do."""
    text, buttons = await _view(ctx, event, member)
    return [Send(event.chat_id, text, buttons=buttons)]


async def check_channel(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """Ask Telegram whether the member is in the channel now; pay the action once if so."""
    action = _action(ctx, press, "telegram_channel")
    if action is None or action.channel is None:
        return refused(event, member.locale, "gone")
    if ctx.channels is None:
        return _alert(event, render("action_check", member.locale, outcome="cannot"))
    try:
        membership = await ctx.channels(action.channel, event.person.id)
    except CannotCheck as refusal:  # the start-up check warned the merchant once
        log.debug("channel %s not checked: %s", action.channel, refusal)
        return _alert(event, render("action_check", member.locale, outcome="cannot"))
    if not is_channel_member(membership.status, membership.is_member):
        return _alert(
            event, render("action_check", member.locale, outcome="not_in", channel=action.channel)
        )
    claimed = await channel_joined(
        ctx.writer(), ctx.program, member_id=member.id, action_id=action.id, now=ctx.clock()
    )
    return await _claimed(ctx, event, member, claimed)


async def link_followed(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """The member followed the link: paid once, or sent to the admins for approval."""
    action = _action(ctx, press, "link")
    if action is None:
        return refused(event, member.locale, "gone")
    claimed = await link_done(
        ctx.writer(), ctx.program, member_id=member.id, action_id=action.id, now=ctx.clock()
    )
    actions = await _claimed(ctx, event, member, claimed)
    if claimed.new and claimed.status == "pending":
        spoken = await member_locales(ctx.reader(), sorted(ctx.admins))
        default = ctx.program.info.locales[0]
        actions += [
            claim_notice(ctx, admin, spoken.get(admin, default), claimed.claim_id, member, action)
            for admin in sorted(ctx.admins)
        ]
    return actions


async def _claimed(ctx: Context, event: Incoming, member: Member, claimed: Claimed) -> list[Action]:
    """The toast for a claim (paid, sent for approval, or how an earlier one stands) and
    the /earn message redrawn."""
    notice = render("action_claimed", member.locale, claimed=claimed, program=ctx.program)
    text, buttons = await _view(ctx, event, member)
    return [
        Answer(callback_id(event), notice, alert=not claimed.new),
        Edit(event.chat_id, message_id(event), text, buttons),
    ]


async def _view(ctx: Context, event: Incoming, member: Member) -> tuple[str, Rows]:
    overview = await earn_overview(ctx.reader(), ctx.program, member, ctx.clock())
    names = labels(member.locale)
    birthday = overview.birthday
    text = render(
        "earn",
        member.locale,
        overview=overview,
        program=ctx.program,
        rules=ctx.program.referrals,
        earning=ctx.program.earning,
        share_label=names["share_phone"],
        birthday=date(LEAP_YEAR, birthday.month, birthday.day) if birthday else None,
    )
    rows = []
    for state in overview.actions:
        action, target = state.action, _target(state.action)
        if state.status is not None or target is None:
            continue
        url, label = target
        opening = Button(
            render("earn_open", member.locale, kind=action.kind, target=label), url=url
        )
        check = (
            button(ctx, event.person.id, names["earn_check"], CHECK, action.id)
            if action.kind == "telegram_channel"
            else button(ctx, event.person.id, names["earn_done"], DONE, action.id)
        )
        rows.append((opening, check))
    return text, tuple(rows)


def _target(action: ProgramAction) -> tuple[str, str] | None:
    """Where an action's first button leads and how it is named: the channel's t.me link
    and @name, or the link and its host; None for actions without one."""
    if action.channel is not None:
        return f"https://t.me/{action.channel.removeprefix('@')}", action.channel
    if action.url is not None:
        return action.url, urlparse(action.url).hostname or action.url
    return None


def _action(ctx: Context, press: Press, kind: str) -> ProgramAction | None:
    action = ctx.program.action(press.args[0]) if press.args else None
    return action if action is not None and action.kind == kind else None


def _alert(event: Incoming, text: str) -> list[Action]:
    return [Answer(callback_id(event), text, alert=True)]


FEATURE = Feature(
    "earn",
    "member",
    commands={"earn": show_earn},
    buttons={CHECK: check_channel, DONE: link_followed},
)
