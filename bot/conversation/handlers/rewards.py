"""/rewards and /vouchers: the catalogue, a reward's details, confirming a redemption.

The confirm button carries a one-off nonce used as the redemption's request id, so a
double tap or a stale copy of the button redeems at most once.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from bot.conversation.actions import Action, Answer, Button, Edit, Send
from bot.conversation.buttons import Press, button
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import callback_id, message_id, refused
from bot.conversation.routes import Feature
from bot.conversation.texts import labels
from domain.codes import format_code
from domain.errors import InsufficientPoints, NotFound, RewardUnavailable
from domain.models import Member
from domain.program import Reward
from domain.services.rewards import catalogue, member_vouchers, redeem_reward
from messages.render import render

DETAIL = "rw"  # button action: a reward's details (reward id)
REDEEM = "rc"  # button action: confirm a redemption (reward id, one-off nonce)
CATALOGUE = "rl"  # button action: back to the catalogue


async def show_rewards(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """The catalogue with a button per reward."""
    text, buttons = await _catalogue(ctx, event, member)
    return [Send(event.chat_id, text, buttons=buttons)]


async def back_to_rewards(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """The catalogue again, in place of a reward's details."""
    text, buttons = await _catalogue(ctx, event, member)
    return [Edit(event.chat_id, message_id(event), text, buttons)]


async def reward_detail(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """One reward, with a confirm button when the member can redeem it."""
    shown = await catalogue(ctx.reader(), ctx.program, member)
    entries = {e.reward.id: e for e in shown.entries}
    entry = entries.get(press.args[0]) if press.args else None
    if entry is None:
        return refused(event, member.locale, "gone")
    names = labels(member.locale)
    row = [button(ctx, event.person.id, names["back"], CATALOGUE)]
    if entry.blocked_by is None and entry.affordable:
        nonce = secrets.token_urlsafe(6)[:8]
        row.insert(0, button(ctx, event.person.id, names["redeem"], REDEEM, entry.reward.id, nonce))
    text = render(
        "reward_detail", member.locale, program=ctx.program, e=entry, balance=shown.balance
    )
    return [Edit(event.chat_id, message_id(event), text, (tuple(row),))]


async def confirm_redemption(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """Redeem once per confirm button; the voucher replaces the details."""
    if len(press.args) != 2:
        return refused(event, member.locale, "gone")
    reward_id, nonce = press.args
    locale = member.locale
    try:
        done = await redeem_reward(
            ctx.writer(),
            ctx.program,
            member_id=member.id,
            reward_id=reward_id,
            now=ctx.clock(),
            request_id=nonce,
        )
    except InsufficientPoints as short:
        return [
            Answer(
                callback_id(event),
                render("refusal", locale, reason=short.code, needed=short.needed - short.available),
                alert=True,
            )
        ]
    except RewardUnavailable as unavailable:
        return [
            Answer(
                callback_id(event), render("refusal", locale, reason=unavailable.reason), alert=True
            )
        ]
    except NotFound:
        return refused(event, locale, "gone")
    if done.replayed:
        return refused(event, locale, "already_done")
    text = render(
        "voucher_issued",
        locale,
        reward=done.reward,
        voucher=done.voucher,
        code=format_code(done.voucher.code),
        balance=done.balance,
        zone=member.timezone or ctx.program.info.timezone,
    )
    return [Edit(event.chat_id, message_id(event), text)]


async def show_vouchers(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """The member's vouchers: active, used and expired."""
    now = ctx.clock()
    vouchers = [
        {
            "code": format_code(v.code),
            "reward_id": v.reward_id,
            "state": v.state(now),
            "expires_at": v.expires_at,
            "used_at": v.used_at,
        }
        for v in await member_vouchers(ctx.reader(), member.id)
    ]
    return [
        Send(
            event.chat_id,
            render(
                "vouchers",
                member.locale,
                vouchers=vouchers,
                program=ctx.program,
                zone=member.timezone or ctx.program.info.timezone,
            ),
        )
    ]


async def _catalogue(
    ctx: Context, event: Incoming, member: Member
) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    shown = await catalogue(ctx.reader(), ctx.program, member)
    text = render(
        "rewards", member.locale, program=ctx.program, entries=shown.entries, balance=shown.balance
    )
    buttons = tuple(
        (button(ctx, event.person.id, reward_label(member.locale, e.reward), DETAIL, e.reward.id),)
        for e in shown.entries
    )
    return text, buttons


@lru_cache(maxsize=1024)
def reward_label(locale: str, reward: Reward) -> str:
    """A reward's button in the catalogue, rendered once per locale and kept (12 us each,
    on every /rewards)."""
    return render("reward_button", locale, reward=reward)


FEATURE = Feature(
    "rewards",
    "member",
    commands={"rewards": show_rewards, "vouchers": show_vouchers},
    buttons={DETAIL: reward_detail, REDEEM: confirm_redemption, CATALOGUE: back_to_rewards},
    labels={"menu_rewards": show_rewards},
)
