"""/staff for admins: add a cashier with a one-time link, list them, remove one.

A cashier's link opens the bot with `/start s-<token>`: see `start.accept_invite`.
"""

from __future__ import annotations

from bot.conversation.actions import Action, Edit, Menu, Send
from bot.conversation.buttons import Press, button
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers.common import message_id, refused
from bot.conversation.routes import Feature
from bot.conversation.typed import TypedNumberError, telegram_id
from domain.errors import NotFound
from domain.services.staff import invite_staff, list_staff, remove_staff
from messages.render import render

REMOVE = "xr"  # button action: remove this cashier (their Telegram id)


async def staff_command(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    """`/staff add`, `/staff list`, `/staff remove [id]`; anything else shows how."""
    verb, _, rest = event.args.partition(" ")
    if verb == "add":
        payload = await invite_staff(ctx.writer(), clerk.telegram_id, ctx.clock())
        link = f"https://t.me/{ctx.bot_username}?start={payload}"
        return [Send(event.chat_id, render("staff_invite", clerk.locale, link=link))]
    if verb == "list":
        return [Send(event.chat_id, await _staff_list(ctx, clerk))]
    if verb == "remove" and rest.strip():
        text, cleared = await _remove(ctx, clerk, rest.strip())
        return [Send(event.chat_id, text), *cleared]
    if verb == "remove":
        return await _choose_whom(ctx, event, clerk)
    return [Send(event.chat_id, render("staff_usage", clerk.locale))]


async def remove_pressed(ctx: Context, event: Incoming, clerk: Clerk, press: Press) -> list[Action]:
    """A cashier chosen from the buttons: removed, and the message says so."""
    if len(press.args) != 1:
        return refused(event, clerk.locale, "gone")
    text, cleared = await _remove(ctx, clerk, press.args[0])
    return [Edit(event.chat_id, message_id(event), text), *cleared]


async def _staff_list(ctx: Context, clerk: Clerk) -> str:
    return render(
        "staff_list",
        clerk.locale,
        staff=await list_staff(ctx.reader()),
        zone=ctx.program.info.timezone,
    )


async def _choose_whom(ctx: Context, event: Incoming, clerk: Clerk) -> list[Action]:
    staff = await list_staff(ctx.reader())
    rows = tuple(
        (button(ctx, clerk.telegram_id, f"✖ {member.name}", REMOVE, str(member.telegram_id)),)
        for member in staff
    )
    return [
        Send(event.chat_id, render("staff_remove_pick", clerk.locale, staff=staff), buttons=rows)
    ]


async def _remove(ctx: Context, clerk: Clerk, typed_id: str) -> tuple[str, list[Menu]]:
    """What the admin is told, and the removed cashier's menu back to the customers' one."""
    try:
        person = telegram_id(typed_id)
    except TypedNumberError as refusal:
        return render("typed_refusal", clerk.locale, refusal=refusal, currency=None), []
    try:
        member = await remove_staff(ctx.writer(), clerk.telegram_id, person, ctx.clock())
    except NotFound:
        return render("till_refusal", clerk.locale, reason="staff_not_found"), []
    cleared = [] if member.telegram_id in ctx.admins else [Menu(member.telegram_id, ())]
    return render("staff_removed", clerk.locale, member=member), cleared


FEATURE = Feature(
    "staff",
    "admin",
    commands={"staff": staff_command},
    buttons={REMOVE: remove_pressed},
)
