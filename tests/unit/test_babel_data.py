"""Money and language names read as Babel writes them, and no locale's Babel data loaded
that nobody reads."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from babel import Locale
from jinja2 import Environment

from bot.conversation.texts import language_name
from messages.render import HERE, add_filters, locales


def test_money_keeps_each_currencys_digits() -> None:
    money = add_filters(Environment(), "en").filters["money"]
    assert [money("1234.5", code) for code in ("USD", "JPY", "KWD")] == [
        "$1,234.50",
        "¥1,234",
        "KWD1,234.500",
    ]


@pytest.mark.parametrize("locale", locales())
def test_each_language_is_named_in_itself_as_babel_names_it(locale: str) -> None:
    babel_name = Locale.parse(locale).get_display_name(locale)
    assert babel_name is not None
    assert language_name(locale) == babel_name.capitalize()


# Run in a fresh interpreter, so that nothing else has loaded Babel data first. It reads a
# Babel internal (`babel.localedata._cache`): fine in a test, never in the product.
SERVED = """
import json, sys
from datetime import UTC, date, datetime
from decimal import Decimal

import babel.localedata

from jinja2 import Environment
from bot.conversation.texts import label_keys, language_name, main_menu
from bot.conversation.typed import money
from messages.render import add_filters, locales

locale = sys.argv[1]
TYPED = [("1.5", "EUR"), ("9", "JPY"), ("0.125", "KWD")]
shown = add_filters(Environment(), locale).from_string(
    "{% for c in currencies %}{{ 1234.5 | money(c) }} {% endfor %}"
    "{{ 1234567 | number }} {{ d | number }} {{ 3 | plural(one='# point', other='# points') }}"
    " {{ moment | date }} {{ day | date }} {{ day | date_as('MMMd') }} {{ moment | clock }}"
).render(
    currencies=["USD", "EUR", "JPY", "KWD"],
    d=Decimal("12.5"),
    moment=datetime(2026, 3, 4, 5, 6, tzinfo=UTC),
    day=date(2026, 3, 4),
    zone="Europe/Madrid",
)
names = [language_name(code) for code in locales()]
typed = [money(text, currency=code, maximum=Decimal(99)) for text, code in TYPED]
label_keys(), main_menu(locale)
print(json.dumps(sorted(babel.localedata._cache)))
"""


@pytest.mark.parametrize("locale", locales())
def test_a_members_texts_load_only_their_locales_babel_data(locale: str) -> None:
    found = subprocess.run(
        [sys.executable, "-c", SERVED, locale],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(found.stdout) == sorted(["root", locale])
