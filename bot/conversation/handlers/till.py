"""Staff at the till: /voucher (check and mark used) and /member (a summary)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.conversation.actions import Action, Answer, Button, Edit, Send
from bot.conversation.buttons import Press, button
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import callback_id, message_id, refused
from bot.conversation.routes import Feature
from bot.conversation.texts import labels
from domain.card_codes import CardCodeRefused
from domain.errors import InvalidRequest, NotFound, VoucherUnusable
from domain.models import ChatState, Voucher
from domain.services.conversations import forget_step, remember_step
from domain.services.points import account_summary
from domain.services.rewards import check_voucher, use_voucher
from domain.services.staff import actor
from domain.services.till import member_at_till, typed_member
from messages.render import render

VOUCHER_STEP = "till_voucher"
MEMBER_STEP = "till_member"
USE = "vu"  # button action: mark this voucher used (its code)
Show = Callable[[Context, Incoming, Clerk, str], Awaitable[list[Action]]]


async def _shown_or_asked(
    ctx: Context, event: Incoming, clerk: Clerk, step: str, question: str, show: Show
) -> list[Action]:
    """What the command's argument names; without one, ask for it and wait at `step`."""
    if not event.args:
        await remember_step(ctx.writer(), clerk.telegram_id, step, {}, ctx.clock())
        return [Send(event.chat_id, render(question, clerk.locale))]
    return await show(ctx, event, clerk, event.args)


async def voucher_command(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """`/voucher CODE` shows the voucher; without a code, asks for one."""
    return await _shown_or_asked(ctx, event, clerk, VOUCHER_STEP, "till_ask_voucher", _show_voucher)


async def voucher_step(
    ctx: Context, event: Incoming, clerk: Clerk, state: ChatState
) -> list[Action]:
    """A voucher code typed after `/voucher`."""
    return await _show_voucher(ctx, event, clerk, event.text or "")


async def use_pressed(ctx: Context, event: Incoming, clerk: Clerk, press: Press) -> list[Action]:
    """Mark the voucher used; a second tap or another till that was quicker is refused."""
    if len(press.args) != 1:
        return refused(event, clerk.locale, "gone")
    try:
        voucher = await use_voucher(
            ctx.writer(), code=press.args[0], actor=actor(clerk.telegram_id), now=ctx.clock()
        )
    except NotFound:
        return [
            Answer(
                callback_id(event), render("till_refusal", clerk.locale, reason="voucher_not_found")
            )
        ]
    except VoucherUnusable as unusable:
        return [
            Answer(
                callback_id(event),
                render("voucher_state", clerk.locale, state=unusable.reason),
                alert=True,
            )
        ]
    return [Edit(event.chat_id, message_id(event), _voucher_text(ctx, clerk, voucher))]


async def member_command(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """`/member CODE` (or phone) shows a member's summary; without one, asks for it."""
    return await _shown_or_asked(ctx, event, clerk, MEMBER_STEP, "till_ask_member", _show_member)


async def member_step(
    ctx: Context, event: Incoming, clerk: Clerk, state: ChatState
) -> list[Action]:
    """A member code or phone typed after `/member`."""
    return await _show_member(ctx, event, clerk, event.text or "")


async def _show_voucher(ctx: Context, event: Incoming, clerk: Clerk, typed: str) -> list[Action]:
    try:
        voucher = await check_voucher(ctx.reader(), typed)
    except NotFound:
        await remember_step(ctx.writer(), clerk.telegram_id, VOUCHER_STEP, {}, ctx.clock())
        return [
            Send(event.chat_id, render("till_refusal", clerk.locale, reason="voucher_not_found"))
        ]
    await forget_step(ctx.writer(), clerk.telegram_id)
    rows: tuple[tuple[Button, ...], ...] = ()
    if voucher.state(ctx.clock()) == "active":
        rows = (
            (
                button(
                    ctx, clerk.telegram_id, labels(clerk.locale)["voucher_use"], USE, voucher.code
                ),
            ),
        )
    return [Send(event.chat_id, _voucher_text(ctx, clerk, voucher), buttons=rows)]


def _voucher_text(ctx: Context, clerk: Clerk, voucher: Voucher) -> str:
    return render(
        "voucher_check",
        clerk.locale,
        voucher=voucher,
        reward=ctx.program.reward(voucher.reward_id),
        state=voucher.state(ctx.clock()),
        zone=ctx.program.info.timezone,
    )


async def _show_member(ctx: Context, event: Incoming, clerk: Clerk, typed: str) -> list[Action]:
    reason = "member_not_found"
    try:
        member = await member_at_till(ctx.reader(), typed_member(typed, ctx.card_check()))
    except CardCodeRefused:
        member, reason = None, "card_code"
    except InvalidRequest:
        member = None
    if member is None:
        await remember_step(ctx.writer(), clerk.telegram_id, MEMBER_STEP, {}, ctx.clock())
        return [Send(event.chat_id, render("till_refusal", clerk.locale, reason=reason))]
    await forget_step(ctx.writer(), clerk.telegram_id)
    summary = await account_summary(ctx.reader(), ctx.program, member.id, ctx.clock())
    return [
        Send(
            event.chat_id,
            render(
                "member_summary",
                clerk.locale,
                program=ctx.program,
                summary=summary,
                p=summary.progress,
                zone=ctx.program.info.timezone,
            ),
        )
    ]


FEATURE = Feature(
    "till",
    "staff",
    commands={"voucher": voucher_command, "member": member_command},
    buttons={USE: use_pressed},
    steps={VOUCHER_STEP: voucher_step, MEMBER_STEP: member_step},
)
