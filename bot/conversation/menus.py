"""The `/` menu of each staff member's own chat: the customer commands, then their own; and
a customer's own menu when they read another language than the program's first.

Telegram shows a chat-scoped menu (setMyCommands with BotCommandScopeChat) in that chat
only, so customers never see staff commands. Menus are set at start-up for every admin
and cashier, when a cashier joins, and cleared when one is removed. With WEB_URL, the
chat's menu button (setChatMenuButton for that chat) opens the cashier scanner instead of
the members' Mini App, and goes back to the default when the menu is cleared. The bot-wide
menu button (the Mini App) has one text, in the program's first language, so a member
who reads another gets their chat's own commands and button in it (`member_menu`).
"""

from __future__ import annotations

from bot.conversation.actions import Menu
from bot.conversation.context import Context
from bot.conversation.desk import STAFF
from bot.conversation.texts import key_values, labels
from bot.settings import MINI_APP_PATH
from domain.services.members import member_locales
from domain.services.staff import Role, list_staff
from messages.render import render

SCANNER_PATH = "/scanner/"  # the cashier scanner under WEB_URL (bot.web.scanner)

# Who may use each staff command, as its feature declares (admins may use them all).
COMMAND_ROLES = {name: route.role for name, route in STAFF.commands.items()}


Commands = tuple[tuple[str, str], ...]  # (name, description)


def customer_commands(locale: str) -> Commands:
    """The commands everyone can use, described in `locale`."""
    return tuple(key_values("commands", locale).items())


def staff_commands(role: Role | None, locale: str) -> Commands:
    """The staff commands `role` may use (none for a customer), described in `locale`."""
    if role is None:
        return ()
    described = key_values("staff_commands", locale)
    return tuple(
        (name, described[name])
        for name, need in COMMAND_ROLES.items()
        if need == "staff" or role == "admin"
    )


def staff_menu(chat_id: int, role: Role, locale: str, web_url: str | None = None) -> Menu:
    """The menu of one staff member's chat, in their language; with WEB_URL, its menu
    button opens the cashier scanner."""
    app = (render("scanner_button", locale), f"{web_url}{SCANNER_PATH}") if web_url else None
    return Menu(chat_id, customer_commands(locale) + staff_commands(role, locale), app)


def member_menu(ctx: Context, chat_id: int, locale: str) -> Menu:
    """A customer's chat menu in `locale`: the commands and, with WEB_URL, the Mini App's
    button in it; in the program's first language, the bot-wide menu and button again."""
    if locale == ctx.program.info.locales[0]:
        return Menu(chat_id, ())
    app = (labels(locale)["open_app"], f"{ctx.web_url}{MINI_APP_PATH}") if ctx.web_url else None
    return Menu(chat_id, customer_commands(locale), app)


async def staff_menus(ctx: Context) -> list[Menu]:
    """Every admin's and active cashier's menu, each in their member language if they joined."""
    roles: dict[int, Role] = {
        member.telegram_id: "staff" for member in await list_staff(ctx.reader())
    }
    roles.update(dict.fromkeys(ctx.admins, "admin"))
    spoken = await member_locales(ctx.reader(), list(roles))
    default = ctx.program.info.locales[0]
    return [
        staff_menu(chat_id, role, spoken.get(chat_id, default), ctx.web_url)
        for chat_id, role in sorted(roles.items())
    ]
