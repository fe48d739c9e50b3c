"""/donate: choose a cause, then an amount (a preset button or typed), confirm, thank you;
or round every purchase up for the cause (`domain.services.round_ups`), and stop it again.

The typed amount needs to know which cause was chosen: that step is stored in the
database, so a restart in between loses nothing.
"""

from __future__ import annotations

import secrets

from babel.numbers import format_decimal

from bot.conversation.actions import Action, Answer, Button, Edit, Send
from bot.conversation.buttons import Press, button
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import callback_id, current_balance, message_id, refused
from bot.conversation.routes import Feature
from bot.conversation.texts import labels, progress_bar
from bot.conversation.typed import TypedNumberError, whole_number
from domain.donations import impact
from domain.errors import InsufficientPoints, NotFound
from domain.models import ChatState, Member
from domain.program import Cause
from domain.roundup import round_up
from domain.services.conversations import forget_step, remember_step
from domain.services.donations import MAX_DONATION, causes_overview, donate
from domain.services.round_ups import choose_round_up, round_up_cause
from domain.titles import localized
from messages.render import render

STEP = "donate_amount"
PRESET_IMPACTS = (1, 2, 5, 10)
CAUSE = "dc"  # button action: ask how much for this cause (cause id)
AMOUNT = "da"  # button action: a preset amount (cause id, points)
DONATE = "dy"  # button action: confirm (cause id, points, one-off nonce)
CAUSES = "dl"  # button action: back to the causes
ROUND_UP = "dr"  # button action: round every purchase up for this cause (cause id)
STOP_ROUND_UP = "ds"  # button action: stop rounding up


async def show_causes(ctx: Context, event: Incoming, member: Member) -> list[Action]:
    """Every cause with its progress bar, a button each."""
    text, buttons = await _causes(ctx, event, member)
    return [Send(event.chat_id, text, buttons=buttons)]


async def back_to_causes(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """The causes again, in place of the amount question."""
    await forget_step(ctx.writer(), event.person.id)
    text, buttons = await _causes(ctx, event, member)
    return [Edit(event.chat_id, message_id(event), text, buttons)]


async def choose_cause(ctx: Context, event: Incoming, member: Member, press: Press) -> list[Action]:
    """Ask how many points: presets in impact units, or a typed number."""
    cause = ctx.program.cause(press.args[0]) if press.args else None
    if cause is None:
        return refused(event, member.locale, "gone")
    balance = await current_balance(ctx, member)
    await remember_step(ctx.writer(), event.person.id, STEP, {"cause": cause.id}, ctx.clock())
    presets = [
        n * cause.points_per_impact
        for n in PRESET_IMPACTS
        if n * cause.points_per_impact <= balance
    ]
    names = labels(member.locale)
    rows: list[tuple[Button, ...]] = []
    if presets:
        rows.append(
            tuple(
                button(
                    ctx,
                    event.person.id,
                    format_decimal(amount, locale=member.locale),
                    AMOUNT,
                    cause.id,
                    str(amount),
                )
                for amount in presets
            )
        )
    rows.append((button(ctx, event.person.id, names["round_up"], ROUND_UP, cause.id),))
    rows.append((button(ctx, event.person.id, names["back"], CAUSES),))
    text = render(
        "donate_amount",
        member.locale,
        cause=cause,
        balance=balance,
        round_up_to=ctx.program.donations.round_up_to,
    )
    return [Edit(event.chat_id, message_id(event), text, tuple(rows))]


async def chosen_amount(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """A preset amount: ask to confirm, in place of the question."""
    cause = ctx.program.cause(press.args[0]) if len(press.args) == 2 else None
    if cause is None or not press.args[1].isdigit():
        return refused(event, member.locale, "gone")
    await forget_step(ctx.writer(), event.person.id)
    text, buttons = _confirmation(ctx, event, member, cause, int(press.args[1]))
    return [Edit(event.chat_id, message_id(event), text, buttons)]


async def typed_amount(
    ctx: Context, event: Incoming, member: Member, state: ChatState
) -> list[Action]:
    """A typed amount while the donation step is open: confirm it or explain what fits."""
    cause = ctx.program.cause(state.data.get("cause", ""))
    if cause is None:  # gone from the program since it was chosen
        await forget_step(ctx.writer(), event.person.id)
        return await show_causes(ctx, event, member)
    balance = await current_balance(ctx, member)
    try:
        points = whole_number(event.text or "", minimum=1, maximum=min(balance, MAX_DONATION))
    except TypedNumberError as refusal:
        return [
            Send(
                event.chat_id,
                render("typed_refusal", member.locale, refusal=refusal, currency=None),
            )
        ]
    await forget_step(ctx.writer(), event.person.id)
    reply, buttons = _confirmation(ctx, event, member, cause, points)
    return [Send(event.chat_id, reply, buttons=buttons)]


async def confirm_donation(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """Give once per confirm button, then thank with the member's own impact."""
    if len(press.args) != 3 or not press.args[1].isdigit():
        return refused(event, member.locale, "gone")
    cause_id, amount, nonce = press.args
    try:
        outcome = await donate(
            ctx.writer(),
            ctx.program,
            member_id=member.id,
            cause_id=cause_id,
            points=int(amount),
            now=ctx.clock(),
            request_id=nonce,
        )
    except InsufficientPoints as short:
        return [
            Answer(
                callback_id(event),
                render(
                    "refusal",
                    member.locale,
                    reason=short.code,
                    needed=short.needed - short.available,
                ),
                alert=True,
            )
        ]
    except NotFound:
        return refused(event, member.locale, "gone")
    if outcome.replayed:
        return refused(event, member.locale, "already_done")
    return [
        Edit(
            event.chat_id,
            message_id(event),
            render("donate_thanks", member.locale, outcome=outcome),
        )
    ]


async def start_round_up(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """Round every purchase up for the cause from now on, in place of the amount question."""
    cause_id = press.args[0] if press.args else ""
    try:
        cause = await choose_round_up(
            ctx.writer(), ctx.program, member_id=member.id, cause_id=cause_id, now=ctx.clock()
        )
    except NotFound:
        return refused(event, member.locale, "gone")
    await forget_step(ctx.writer(), event.person.id)
    step = ctx.program.donations.round_up_to
    example = round_up(3 * step + step * 7 // 10, step)  # 37 with 10: 30 kept, 7 given
    text = render("donate_round_up", member.locale, cause=cause, round_up_to=step, example=example)
    return [Edit(event.chat_id, message_id(event), text)]


async def stop_round_up(
    ctx: Context, event: Incoming, member: Member, press: Press
) -> list[Action]:
    """Stop rounding up: the causes again, saying so."""
    await choose_round_up(
        ctx.writer(), ctx.program, member_id=member.id, cause_id=None, now=ctx.clock()
    )
    text, buttons = await _causes(ctx, event, member)
    return [Edit(event.chat_id, message_id(event), text, buttons)]


def _confirmation(
    ctx: Context, event: Incoming, member: Member, cause: Cause, points: int
) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    names = labels(member.locale)
    nonce = secrets.token_urlsafe(6)[:8]
    row = (
        button(ctx, event.person.id, names["donate"], DONATE, cause.id, str(points), nonce),
        button(ctx, event.person.id, names["back"], CAUSES),
    )
    text = render(
        "donate_confirm", member.locale, cause=cause, points=points, impact=impact(cause, points)
    )
    return text, (row,)


async def _causes(
    ctx: Context, event: Incoming, member: Member
) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    causes = await causes_overview(ctx.reader(), ctx.program)
    rounding = await round_up_cause(ctx.reader(), ctx.program, member.id)
    bars = {c.cause.id: progress_bar(c.percent) for c in causes}
    text = render(
        "causes",
        member.locale,
        causes=causes,
        bars=bars,
        balance=await current_balance(ctx, member),
        round_up=rounding,
    )
    buttons = tuple(
        (
            button(
                ctx,
                event.person.id,
                localized(c.cause.title, c.cause.titles, member.locale),
                CAUSE,
                c.cause.id,
            ),
        )
        for c in causes
    )
    if rounding is not None:
        stop = button(ctx, event.person.id, labels(member.locale)["round_up_stop"], STOP_ROUND_UP)
        buttons = (*buttons, (stop,))
    return text, buttons


FEATURE = Feature(
    "donate",
    "member",
    commands={"donate": show_causes},
    buttons={
        CAUSE: choose_cause,
        AMOUNT: chosen_amount,
        DONATE: confirm_donation,
        CAUSES: back_to_causes,
        ROUND_UP: start_round_up,
        STOP_ROUND_UP: stop_round_up,
    },
    steps={STEP: typed_amount},
    labels={"menu_donate": show_causes},
)
