"""The staff side of the bot: which updates are staff work, and who may do it.

Only a command, a button or a typed step that belongs to the staff side costs a role
lookup. Anyone without the role gets None here and is answered as a customer, so a
customer trying a staff command learns nothing about it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.conversation.actions import Action
from bot.conversation.buttons import Press, read_press
from bot.conversation.clerk import Clerk
from bot.conversation.context import Context
from bot.conversation.events import Incoming
from bot.conversation.handlers import broadcast, sale, stats, survey, till
from bot.conversation.handlers.common import answered
from bot.conversation.handlers.staff import remove_pressed, staff_command
from bot.conversation.menus import COMMAND_ROLES
from domain.models import ChatState, Member
from domain.services.members import pick_locale
from domain.services.staff import Role, role_of

ClerkHandler = Callable[[Context, Incoming, Clerk], Awaitable[list[Action]]]
ClerkPress = Callable[[Context, Incoming, Clerk, Press], Awaitable[list[Action]]]
ClerkStep = Callable[[Context, Incoming, Clerk, ChatState], Awaitable[list[Action]]]

COMMANDS: dict[str, ClerkHandler] = {  # who may use each: menus.COMMAND_ROLES
    "sale": sale.start_sale, "voucher": till.voucher_command, "member": till.member_command,
    "adjust": till.adjust_command, "staff": staff_command,
    "broadcast": broadcast.start_broadcast, "broadcasts": broadcast.list_broadcasts,
    "feedback": survey.feedback, "stats": stats.stats_command,
}
PRESSES: dict[str, tuple[Role, ClerkPress]] = {
    "kc": ("staff", sale.category_pressed), "ky": ("staff", sale.confirm_pressed),
    "kn": ("staff", sale.cancel_pressed), "vu": ("staff", till.use_pressed),
    "xr": ("admin", remove_pressed), "bk": ("admin", broadcast.no_button_pressed),
    "bs": ("admin", broadcast.condition_pressed), "bp": ("admin", broadcast.preview_pressed),
    "by": ("admin", broadcast.send_pressed), "bn": ("admin", broadcast.cancel_draft_pressed),
    "bx": ("admin", broadcast.stop_pressed), stats.PREVIOUS: ("admin", stats.previous_pressed),
}
STEPS: dict[str, ClerkStep] = {
    sale.MEMBER_STEP: sale.member_step, sale.AMOUNT_STEP: sale.amount_step,
    till.VOUCHER_STEP: till.voucher_step, till.MEMBER_STEP: till.member_step,
    broadcast.MESSAGE_STEP: broadcast.message_step, broadcast.BUTTON_STEP: broadcast.button_step,
    broadcast.SEGMENT_STEP: broadcast.segment_step,
}


async def staff_reply(ctx: Context, event: Incoming, member: Member | None,
                      state: ChatState | None) -> list[Action] | None:
    """The reply when this update is staff work by someone allowed to do it, else None."""
    if event.command in COMMANDS:
        clerk = await _clerk(ctx, event, member, COMMAND_ROLES[event.command])
        return await COMMANDS[event.command](ctx, event, clerk) if clerk else None
    if event.kind == "callback":
        press = read_press(ctx, event.person.id, event.callback_data)
        if press is None or press.action not in PRESSES:
            return None
        need, pressed = PRESSES[press.action]
        clerk = await _clerk(ctx, event, member, need)
        if clerk is None:
            return None
        return answered(event, await pressed(ctx, event, clerk, press))
    typed = (event.text or event.photo_file_id) and not event.command
    step = STEPS.get(state.step) if state and typed else None
    if step is None or state is None:
        return None
    clerk = await _clerk(ctx, event, member, "staff")
    return await step(ctx, event, clerk, state) if clerk else None


async def _clerk(ctx: Context, event: Incoming, member: Member | None,
                 need: Role) -> Clerk | None:
    """The person as a clerk when their role covers `need` (admins can do all staff work)."""
    role = await role_of(ctx.reader(), event.person.id, ctx.admins)
    if role is None or (need == "admin" and role != "admin"):
        return None
    locale = member.locale if member else pick_locale(ctx.program, event.person.language_code)
    return Clerk(event.person.id, role, locale)
