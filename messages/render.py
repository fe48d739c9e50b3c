"""The one way text reaches a person: Jinja2 templates with Babel number and date filters.

Chat messages live in `messages/<locale>/<name>.j2`: Telegram HTML, every value escaped
(a member's first name may hold `<`), and a template missing in a locale falls back to
English. Console output for operators lives in `messages/cli/<name>.txt.j2` (plain text).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).parent
FALLBACK_LOCALE = "en"
NOT_LOCALES = frozenset({"cli", "__pycache__"})


def add_filters(env: Environment, locale: str) -> Environment:
    """Locale-aware filters: number, money, date."""
    env.filters["number"] = lambda value: format_decimal(value, locale=locale)
    env.filters["money"] = lambda value, currency: format_currency(
        Decimal(value), currency, locale=locale)
    env.filters["date"] = lambda value, fmt="medium": format_date(
        date.fromisoformat(value) if isinstance(value, str) else value, fmt, locale=locale)
    return env


def locales() -> list[str]:
    """The locales that ship chat templates, English first."""
    found = sorted(p.name for p in HERE.iterdir() if p.is_dir() and p.name not in NOT_LOCALES)
    return sorted(found, key=lambda name: name != FALLBACK_LOCALE)


@cache
def _chat_environment(locale: str) -> Environment:
    folders = [HERE / locale] if locale != FALLBACK_LOCALE else []
    loader = ChoiceLoader([FileSystemLoader(f) for f in [*folders, HERE / FALLBACK_LOCALE]])
    env = Environment(loader=loader, undefined=StrictUndefined, autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    return add_filters(env, locale if locale in locales() else FALLBACK_LOCALE)


@cache
def _text_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "cli"), undefined=StrictUndefined,
                      autoescape=False, trim_blocks=True, lstrip_blocks=True)
    return add_filters(env, FALLBACK_LOCALE)


def render(template: str, locale: str, /, **context: Any) -> str:
    """A chat message in `locale` (HTML parse mode); undefined variables fail loudly."""
    return _chat_environment(locale).get_template(f"{template}.j2").render(**context).strip()


def render_text(template: str, /, **context: Any) -> str:
    """Console text for operators (English, not escaped); undefined variables fail loudly."""
    return _text_environment().get_template(f"{template}.txt.j2").render(**context).rstrip()
