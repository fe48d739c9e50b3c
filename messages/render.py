"""The one way text reaches a person: Jinja2 templates with Babel number and date filters.

Console output for operators lives in `messages/cli/<name>.txt.j2` (plain text, English).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).parent


def add_filters(env: Environment, locale: str) -> Environment:
    """Locale-aware filters: number, money, date."""
    env.filters["number"] = lambda value: format_decimal(value, locale=locale)
    env.filters["money"] = lambda value, currency: format_currency(
        Decimal(value), currency, locale=locale)
    env.filters["date"] = lambda value, fmt="medium": format_date(value, fmt, locale=locale)
    return env


@cache
def _text_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "cli"), undefined=StrictUndefined,
                      autoescape=False, trim_blocks=True, lstrip_blocks=True)
    return add_filters(env, "en")


def render_text(name: str, **context: Any) -> str:
    """Console text for operators (English, not escaped); undefined variables fail loudly."""
    return _text_environment().get_template(f"{name}.txt.j2").render(**context).rstrip()
