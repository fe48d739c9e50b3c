"""Staff at the till: /voucher (check and mark used), /member (a summary), /adjust (admins)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.conversation.actions import Action, Answer, Button, Edit, Send
from bot.conversation.buttons import Press, button
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import callback_id, message_id, refused
from bot.conversation.texts import labels
from bot.conversation.typed import TypedNumberError, whole_number
from domain.errors import InsufficientPoints, InvalidRequest, NotFound, VoucherUnusable
from domain.models import ChatState, Voucher
from domain.services.conversations import forget_step, remember_step
from domain.services.points import MAX_ADJUSTMENT, account_summary, adjust_points
from domain.services.rewards import check_voucher, use_voucher
from domain.services.staff import actor
from domain.services.till import member_at_till, typed_member
from messages.render import render

VOUCHER_STEP = "till_voucher"
MEMBER_STEP = "till_member"
Show = Callable[[Context, Incoming, Clerk, str], Awaitable[list[Action]]]


async def _shown_or_asked(ctx: Context, event: Incoming, clerk: Clerk, step: str,
                          question: str, show: Show) -> list[Action]:
    """What the command's argument names; without one, ask for it and wait at `step`."""
    if not event.args:
        await remember_step(ctx.writer(), clerk.telegram_id, step, {}, ctx.clock())
        return [Send(event.chat_id, render(question, clerk.locale))]
    return await show(ctx, event, clerk, event.args)


async def voucher_command(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """`/voucher CODE` shows the voucher; without a code, asks for one."""
    return await _shown_or_asked(ctx, event, clerk, VOUCHER_STEP, "till_ask_voucher",
                                 _show_voucher)


async def voucher_step(ctx: Context, event: Incoming, clerk: Clerk,
                       state: ChatState) -> list[Action]:
    """A voucher code typed after `/voucher`."""
    return await _show_voucher(ctx, event, clerk, event.text or "")


async def use_pressed(ctx: Context, event: Incoming, clerk: Clerk,
                      press: Press) -> list[Action]:
    """Mark the voucher used; a second tap or another till that was quicker is refused."""
    if len(press.args) != 1:
        return refused(event, clerk.locale, "gone")
    try:
        voucher = await use_voucher(ctx.writer(), code=press.args[0],
                                    actor=actor(clerk.telegram_id), now=ctx.clock())
    except NotFound:
        return [Answer(callback_id(event), render("till_refusal", clerk.locale,
                                                  reason="voucher_not_found"))]
    except VoucherUnusable as unusable:
        return [Answer(callback_id(event), render("voucher_state", clerk.locale,
                                                  state=unusable.reason), alert=True)]
    return [Edit(event.chat_id, message_id(event), _voucher_text(ctx, clerk, voucher))]


async def member_command(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """`/member CODE` (or phone) shows a member's summary; without one, asks for it."""
    return await _shown_or_asked(ctx, event, clerk, MEMBER_STEP, "till_ask_member",
                                 _show_member)


async def member_step(ctx: Context, event: Incoming, clerk: Clerk,
                      state: ChatState) -> list[Action]:
    """A member code or phone typed after `/member`."""
    return await _show_member(ctx, event, clerk, event.text or "")


async def adjust_command(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """`/adjust CODE +100 reason`: add or remove points by hand (admins)."""
    parts = event.args.split(maxsplit=2)
    if len(parts) != 3:
        return [Send(event.chat_id, render("adjust_usage", clerk.locale))]
    try:
        points = whole_number(parts[1], minimum=-MAX_ADJUSTMENT, maximum=MAX_ADJUSTMENT,
                              signed=True)
    except TypedNumberError as refusal:
        return [Send(event.chat_id, render("typed_refusal", clerk.locale, refusal=refusal,
                                           currency=None))]
    try:
        member = await member_at_till(ctx.reader(), typed_member(parts[0]))
        if member is None:
            raise NotFound("member", parts[0])
        balance = await adjust_points(ctx.writer(), ctx.program, member_id=member.id,
                                      points=points, reason=parts[2],
                                      actor=actor(clerk.telegram_id), now=ctx.clock())
    except NotFound:
        return [Send(event.chat_id, render("till_refusal", clerk.locale,
                                           reason="member_not_found"))]
    except InsufficientPoints as short:
        return [Send(event.chat_id, render("till_refusal", clerk.locale,
                                           reason="insufficient", available=short.available))]
    except InvalidRequest:
        return [Send(event.chat_id, render("adjust_usage", clerk.locale))]
    return [Send(event.chat_id, render("adjusted", clerk.locale, member=member,
                                       points=points, balance=balance))]


async def _show_voucher(ctx: Context, event: Incoming, clerk: Clerk,
                        typed: str) -> list[Action]:
    try:
        voucher = await check_voucher(ctx.reader(), typed)
    except NotFound:
        await remember_step(ctx.writer(), clerk.telegram_id, VOUCHER_STEP, {}, ctx.clock())
        return [Send(event.chat_id, render("till_refusal", clerk.locale,
                                           reason="voucher_not_found"))]
    await forget_step(ctx.writer(), clerk.telegram_id)
    rows: tuple[tuple[Button, ...], ...] = ()
    if voucher.state(ctx.clock()) == "active":
        rows = ((button(ctx, clerk.telegram_id, labels(clerk.locale)["voucher_use"], "vu",
                        voucher.code),),)
    return [Send(event.chat_id, _voucher_text(ctx, clerk, voucher), buttons=rows)]


def _voucher_text(ctx: Context, clerk: Clerk, voucher: Voucher) -> str:
    return render("voucher_check", clerk.locale, voucher=voucher,
                  reward=ctx.program.reward(voucher.reward_id),
                  state=voucher.state(ctx.clock()), zone=ctx.program.info.timezone)


async def _show_member(ctx: Context, event: Incoming, clerk: Clerk,
                       typed: str) -> list[Action]:
    try:
        member = await member_at_till(ctx.reader(), typed_member(typed))
    except InvalidRequest:
        member = None
    if member is None:
        await remember_step(ctx.writer(), clerk.telegram_id, MEMBER_STEP, {}, ctx.clock())
        return [Send(event.chat_id, render("till_refusal", clerk.locale,
                                           reason="member_not_found"))]
    await forget_step(ctx.writer(), clerk.telegram_id)
    summary = await account_summary(ctx.reader(), ctx.program, member.id, ctx.clock())
    return [Send(event.chat_id, render("member_summary", clerk.locale, summary=summary,
                                       p=summary.progress, zone=ctx.program.info.timezone))]
