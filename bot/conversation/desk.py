"""The staff side of the bot: which updates are staff work, and who may do it.

The staff features are included here; each declares its commands, buttons, typed steps and
role in its own module. Only a command, a button or a typed step that belongs to the staff
side costs a role lookup. Anyone without the role gets None here and is answered as a
customer, so a customer trying a staff command learns nothing about it.
"""

from __future__ import annotations

from bot.conversation.actions import Action
from bot.conversation.buttons import Press
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers import (
    adjust,
    broadcast,
    claims,
    dashboard,
    feedback,
    sale,
    staff,
    stats,
    till,
)
from bot.conversation.handlers.common import answered
from bot.conversation.routes import Role, Routes, include
from domain.models import ChatState, Member
from domain.services.members import pick_locale
from domain.services.staff import role_of

STAFF: Routes[Clerk] = include(
    {"staff", "admin"},
    sale.FEATURE,
    till.FEATURE,
    adjust.FEATURE,
    staff.FEATURE,
    broadcast.FEATURE,
    feedback.FEATURE,
    stats.FEATURE,
    claims.FEATURE,
    dashboard.FEATURE,
)


async def staff_reply(
    ctx: Context,
    event: Incoming,
    member: Member | None,
    state: ChatState | None,
    press: Press | None,
) -> list[Action] | None:
    """The reply when this update is staff work by someone allowed to do it, else None.

    `press` is the verified press of a button (None for anything else, or a forged one)."""
    if event.command is not None:
        command = STAFF.commands.get(event.command)
        clerk = await _clerk(ctx, event, member, command.role) if command else None
        return await command.handler(ctx, event, clerk) if command and clerk else None
    if press is not None:
        button = STAFF.buttons.get(press.action)
        clerk = await _clerk(ctx, event, member, button.role) if button else None
        if button is None or clerk is None:
            return None
        return answered(event, await button.handler(ctx, event, clerk, press))
    typed = event.text or event.photo_file_id
    step = STAFF.steps.get(state.step) if state and typed else None
    clerk = await _clerk(ctx, event, member, step.role) if step else None
    return await step.handler(ctx, event, clerk, state) if step and clerk and state else None


async def _clerk(ctx: Context, event: Incoming, member: Member | None, need: Role) -> Clerk | None:
    """The person as a clerk when their role covers `need` (admins can do all staff work)."""
    role = await role_of(ctx.reader(), event.person.id, ctx.admins)
    if role is None or (need == "admin" and role != "admin"):
        return None
    locale = member.locale if member else pick_locale(ctx.program, event.person.language_code)
    return Clerk(event.person.id, role, locale)
