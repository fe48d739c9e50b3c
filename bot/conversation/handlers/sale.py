"""/sale for cashiers: the customer's code or phone, the amount, a category, confirm.

Two typed steps are remembered in the database; after that every detail rides in signed
button data, so a confirm button records exactly what it showed. Its receipt id is made
when the confirmation is shown: a double tap replays the same receipt and awards once.
"""

from __future__ import annotations

from decimal import Decimal

from bot.conversation.actions import Action, Answer, Edit, Send
from bot.conversation.buttons import Press, button
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import callback_id, message_id, refused
from bot.conversation.routes import Feature
from bot.conversation.texts import labels
from bot.conversation.typed import TypedNumberError, money
from domain.card_codes import CardCodeRefused
from domain.earning import PurchaseLine
from domain.errors import Conflict, InvalidRequest, NotFound
from domain.models import ChatState
from domain.preview import preview_points
from domain.program import Program
from domain.receipts import made_up_receipt_id
from domain.services.conversations import forget_step, remember_step
from domain.services.purchases import MERCHANT, MemberRef, ReceiptIn, record_purchase
from domain.services.till import member_at_till, typed_member
from messages.render import render

MEMBER_STEP = "sale_member"
AMOUNT_STEP = "sale_amount"
OTHER = "other"
MAX_AMOUNT = Decimal(1_000_000)
CATEGORY = "kc"  # button action: the sale's category (member, amount, category index)
RECORD = "ky"  # button action: record it (member, amount, category index, receipt id)
CANCEL = "kn"  # button action: drop the sale


async def start_sale(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """Ask whose sale it is, or take the code typed after the command."""
    if event.args:
        return await _member_typed(ctx, event, clerk, event.args)
    await remember_step(ctx.writer(), clerk.telegram_id, MEMBER_STEP, {}, ctx.clock())
    return [Send(event.chat_id, render("sale_ask_member", clerk.locale))]


async def member_step(
    ctx: Context, event: Incoming, clerk: Clerk, state: ChatState
) -> list[Action]:
    """The code or phone typed while the sale waits for it."""
    return await _member_typed(ctx, event, clerk, event.text or "")


async def amount_step(
    ctx: Context, event: Incoming, clerk: Clerk, state: ChatState
) -> list[Action]:
    """The amount typed: category buttons follow, or the amount is asked again."""
    currency = ctx.program.info.currency
    try:
        amount = money(event.text or "", currency=currency, maximum=MAX_AMOUNT)
    except TypedNumberError as refusal:
        return [
            Send(
                event.chat_id,
                render("typed_refusal", clerk.locale, refusal=refusal, currency=currency),
            )
        ]
    await forget_step(ctx.writer(), clerk.telegram_id)
    ref = state.data["ref"]
    rows = tuple(
        (
            button(
                ctx,
                clerk.telegram_id,
                _category_label(category, clerk.locale),
                CATEGORY,
                ref,
                str(amount),
                str(index),
            ),
        )
        for index, category in enumerate(sale_categories(ctx.program))
    )
    return [
        Send(
            event.chat_id,
            render(
                "sale_ask_category", clerk.locale, amount=amount, currency=ctx.program.info.currency
            ),
            buttons=rows,
        )
    ]


async def category_pressed(
    ctx: Context, event: Incoming, clerk: Clerk, press: Press
) -> list[Action]:
    """Show exactly what will be recorded, with the points it earns, and ask to confirm."""
    sale = _sale(ctx.program, press.args[:3])
    if sale is None:
        return refused(event, clerk.locale, "gone")
    ref, amount, category = sale
    member = await member_at_till(ctx.reader(), ref)
    receipt = made_up_receipt_id()
    names = labels(clerk.locale)
    confirm = button(
        ctx, clerk.telegram_id, names["sale_confirm"], RECORD, *press.args[:3], receipt
    )
    cancel = button(ctx, clerk.telegram_id, names["cancel"], CANCEL)
    text = render(
        "sale_confirm",
        clerk.locale,
        member=member,
        phone=_phone(ref),
        amount=amount,
        currency=ctx.program.info.currency,
        category=_category_label(category, clerk.locale),
        points=preview_points(ctx.program, member, category, amount, ctx.clock()),
    )
    return [Edit(event.chat_id, message_id(event), text, ((confirm, cancel),))]


async def confirm_pressed(
    ctx: Context, event: Incoming, clerk: Clerk, press: Press
) -> list[Action]:
    """Record the sale through the same service as the till API; both sides are told."""
    sale = _sale(ctx.program, press.args[:3]) if len(press.args) == 4 else None
    if sale is None:
        return refused(event, clerk.locale, "gone")
    ref, amount, category = sale
    try:
        outcome = await record_purchase(
            ctx.writer(),
            ctx.program,
            ReceiptIn(
                press.args[3],
                ref,
                [PurchaseLine("sale", category, 1, amount)],
                store=f"telegram:{clerk.telegram_id}",
            ),
            now=ctx.clock(),
            merchant=MERCHANT,
        )
    except (NotFound, Conflict, InvalidRequest) as refusal:
        return [
            Answer(
                callback_id(event),
                render("till_refusal", clerk.locale, reason=refusal.code),
                alert=True,
            )
        ]
    text = render(
        "sale_done",
        clerk.locale,
        program=ctx.program,
        answer=outcome.answer,
        held=outcome.held,
        replayed=outcome.replayed,
        amount=amount,
        currency=ctx.program.info.currency,
    )
    return [Edit(event.chat_id, message_id(event), text)]


async def cancel_pressed(ctx: Context, event: Incoming, clerk: Clerk, press: Press) -> list[Action]:
    """Drop the sale before it was recorded."""
    return [Edit(event.chat_id, message_id(event), render("cancelled", clerk.locale))]


def sale_categories(program: Program) -> list[str]:
    """The program's categories, then one for everything else."""
    named = [rule.category for rule in program.earning.categories]
    return named + ([OTHER] if OTHER not in named else [])


async def _member_typed(ctx: Context, event: Incoming, clerk: Clerk, typed: str) -> list[Action]:
    """Whose sale: a member, or a phone nobody has yet (points held for them)."""
    try:
        ref = typed_member(typed, ctx.card_check())
    except CardCodeRefused:
        return await _ask_again(ctx, event, clerk, "card_code")
    except InvalidRequest:
        return await _ask_again(ctx, event, clerk, "member_typed")
    member = await member_at_till(ctx.reader(), ref)
    if member is None and ref.kind == "member_code":
        return await _ask_again(ctx, event, clerk, "member_not_found")
    packed = ("c" if ref.kind == "member_code" else "p") + ref.value
    await remember_step(ctx.writer(), clerk.telegram_id, AMOUNT_STEP, {"ref": packed}, ctx.clock())
    return [
        Send(
            event.chat_id,
            render(
                "sale_ask_amount",
                clerk.locale,
                program=ctx.program,
                member=member,
                phone=_phone(ref),
                currency=ctx.program.info.currency,
            ),
        )
    ]


async def _ask_again(ctx: Context, event: Incoming, clerk: Clerk, reason: str) -> list[Action]:
    await remember_step(ctx.writer(), clerk.telegram_id, MEMBER_STEP, {}, ctx.clock())
    return [Send(event.chat_id, render("till_refusal", clerk.locale, reason=reason))]


def _sale(program: Program, args: tuple[str, ...]) -> tuple[MemberRef, Decimal, str] | None:
    """The member, amount and category carried by a button, or None when they don't parse."""
    if len(args) != 3 or len(args[0]) < 2 or not args[2].isdigit():
        return None
    kind, value = args[0][0], args[0][1:]
    categories, index = sale_categories(program), int(args[2])
    try:
        amount = money(args[1], currency=program.info.currency, maximum=MAX_AMOUNT)
    except TypedNumberError:
        return None
    if kind not in "cp" or index >= len(categories):
        return None
    return MemberRef("member_code" if kind == "c" else "phone", value), amount, categories[index]


def _phone(ref: MemberRef) -> str | None:
    return ref.value if ref.kind == "phone" else None


def _category_label(category: str, locale: str) -> str:
    return labels(locale)["category_other"] if category == OTHER else category.capitalize()


FEATURE = Feature(
    "sale",
    "staff",
    commands={"sale": start_sale},
    buttons={CATEGORY: category_pressed, RECORD: confirm_pressed, CANCEL: cancel_pressed},
    steps={MEMBER_STEP: member_step, AMOUNT_STEP: amount_step},
)
