"""Rendering helpers shared by handlers: labels, the main menu, language names, progress bars."""

from __future__ import annotations

from functools import cache

from bot.conversation.actions import Keyboard
from messages.render import locales, render

MENU = ("menu_card", "menu_balance", "menu_rewards", "menu_invite", "menu_donate", "menu_help")
BAR_CELLS = 10


def key_values(template: str, locale: str, **context: object) -> dict[str, str]:
    """A template of `key = text` lines, rendered in `locale`, as a dict in file order."""
    lines = render(template, locale, **context).splitlines()
    return dict(line.split(" = ", 1) for line in lines if " = " in line)


@cache
def labels(locale: str) -> dict[str, str]:
    """Button labels of a locale."""
    return key_values("labels", locale)


def command_menus(program_locales: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    """The `/` menu per language for setMyCommands; '' (everyone else) gets the first."""
    menus = {locale: list(key_values("commands", locale).items()) for locale in program_locales}
    return {"": menus[program_locales[0]], **menus}


@cache
def label_keys() -> dict[str, str]:
    """Every locale's label text mapped back to its key, for taps on the reply keyboard."""
    return {text: key for locale in locales() for key, text in labels(locale).items()}


def main_menu(locale: str) -> Keyboard:
    """The reply keyboard under the input field, three rows of two, and the phone button."""
    texts = labels(locale)
    rows = tuple(tuple(texts[key] for key in MENU[i : i + 2]) for i in range(0, len(MENU), 2))
    return Keyboard(rows=rows, contact_button=texts["share_phone"])


def language_name(code: str) -> str:
    """A language's name in itself: 'English', 'Español' (from that locale's labels, so
    that showing a language menu does not load every language's Babel data)."""
    return labels(code)["language"]


def progress_bar(percent: int) -> str:
    """A ten-cell bar such as ▰▰▰▱▱▱▱▱▱▱ for 30%."""
    filled = max(0, min(BAR_CELLS, percent * BAR_CELLS // 100))
    return "▰" * filled + "▱" * (BAR_CELLS - filled)
