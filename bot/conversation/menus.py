"""The `/` menu of each staff member's own chat: the customer commands, then their own.

Telegram shows a chat-scoped menu (setMyCommands with BotCommandScopeChat) in that chat
only, so customers never see staff commands. Menus are set at start-up for every admin
and cashier, when a cashier joins, and cleared when one is removed.
"""

from __future__ import annotations

from bot.conversation.actions import Menu
from bot.conversation.context import Context
from bot.conversation.texts import key_values
from domain.services.members import member_locales
from domain.services.staff import Role, list_staff

COMMAND_ROLES: dict[str, Role] = {
    "sale": "staff", "voucher": "staff", "member": "staff", "adjust": "admin",
    "staff": "admin", "broadcast": "admin", "broadcasts": "admin",
}


def staff_menu(chat_id: int, role: Role, locale: str) -> Menu:
    """The menu of one staff member's chat, in their language."""
    described = key_values("staff_commands", locale)
    own = [(name, described[name]) for name, need in COMMAND_ROLES.items()
           if need == "staff" or role == "admin"]
    return Menu(chat_id, tuple(key_values("commands", locale).items()) + tuple(own))


async def staff_menus(ctx: Context) -> list[Menu]:
    """Every admin's and active cashier's menu, each in their member language if they joined."""
    roles: dict[int, Role] = {member.telegram_id: "staff"
                              for member in await list_staff(ctx.reader())}
    roles.update(dict.fromkeys(ctx.admins, "admin"))
    spoken = await member_locales(ctx.reader(), list(roles))
    default = ctx.program.info.locales[0]
    return [staff_menu(chat_id, role, spoken.get(chat_id, default))
            for chat_id, role in sorted(roles.items())]
