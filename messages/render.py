"""The one way text reaches a person: Jinja2 templates with Babel number and date filters.

Chat messages live in `messages/<locale>/<name>.j2`: Telegram HTML, every value escaped
(a member's first name may hold `<`), and a template missing in a locale falls back to
English. Console output for operators lives in `messages/cli/<name>.txt.j2` (plain text).

Filters every template uses, so that a value reads the same everywhere:
`number`, `money(currency)`, `plural(one=..., other=...)` for anything counted,
`date` for every day shown (`date_as(skeleton)` for a day without its year, a month),
`clock` for a time of day (the wall-clock time of a naive moment, as the locale writes it),
`code` for member and voucher codes, and for the program's own words in the reader's
language `titled` (a reward, cause, action or tier object) and `title_of(kind)` (a tier
name, a reward, cause, action or promotion id: it needs the `program` in the context, and
reads as the key itself without it). The test `made_up_receipt` tells a receipt id the bot
invented from the merchant's own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_currency, format_decimal
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from domain.codes import format_code
from domain.receipts import is_made_up
from domain.titles import localized

HERE = Path(__file__).parent
FALLBACK_LOCALE = "en"
NOT_LOCALES = frozenset({"cli", "__pycache__"})
COUNT_MARK = "#"
NUMBERS_KEPT = 8192  # whole numbers formatted and kept, per cache


def plural(count: int | Decimal | str, locale: str | Locale, forms: dict[str, str]) -> str:
    """The form of `forms` that the locale's CLDR plural rules pick for `count`.

    `forms` maps CLDR categories (zero, one, two, few, many, other) to text; `other` is
    required and stands in for any category not given. A `#` in the form becomes the
    count, formatted for the locale: plural(2, "en", one="# point", other="# points").
    """
    if "other" not in forms:
        raise TypeError("plural needs at least the form other=...")
    category, shown = _counted(count, locale) if type(count) is int else _count(count, locale)
    return forms.get(category, forms["other"]).replace(COUNT_MARK, shown)


def _count(count: int | Decimal | str, locale: str | Locale) -> tuple[str, str]:
    """The CLDR plural category of `count` and the count as the locale writes it."""
    number = Decimal(str(count))
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))  # "1.00" points is one point, not 1.00 of them
    return _plural_rule(locale)(abs(number)), format_decimal(number, locale=locale)


_counted = lru_cache(maxsize=NUMBERS_KEPT)(_count)  # whole counts: Babel took a fifth of a reply


@lru_cache(maxsize=NUMBERS_KEPT)
def _whole_number(value: int, locale: Locale) -> str:
    """A whole number as the locale writes it (kept: the same balances recur)."""
    return format_decimal(value, locale=locale)


def format_number(value: int | Decimal | float, locale: Locale) -> str:
    """A number as the locale writes it; whole numbers from a cache."""
    if type(value) is int:
        return _whole_number(value, locale)
    return format_decimal(value, locale=locale)


@cache
def _plural_rule(locale: str | Locale) -> Callable[[Decimal], str]:
    """The locale's CLDR plural rule: a number in, its category out."""
    return Locale.parse(locale).plural_form


def local_date(value: date | datetime | str, locale: str | Locale, zone: str | None = None) -> str:
    """A day in the locale's one date format; a moment is read on the clock of `zone`.

    Naive moments are UTC (as stored); ISO strings are accepted (outbox contexts are JSON).
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        value = moment.astimezone(ZoneInfo(zone) if zone else UTC).date()
    return format_date(value, "medium", locale=locale)


def add_filters(env: Environment, locale: str) -> Environment:
    """Locale-aware filters: number, money, plural, date, code (and the made-up-receipt test)."""
    parsed = Locale.parse(locale)  # once: Babel parses a locale given by name on every call
    env.filters["number"] = lambda value: format_number(value, parsed)
    env.filters["money"] = lambda value, currency: format_currency(
        Decimal(value), currency, locale=parsed
    )
    env.filters["plural"] = lambda count, **forms: plural(count, parsed, forms)

    @pass_context
    def date_filter(context: Context, value: date | datetime | str) -> str:
        return local_date(value, parsed, context.get("zone"))

    env.filters["date"] = date_filter
    env.filters["date_as"] = lambda value, skeleton: format_skeleton(
        skeleton, value.date() if isinstance(value, datetime) else value, locale=locale
    )
    env.filters["clock"] = lambda value: format_time(
        value.time() if isinstance(value, datetime) else value, "short", locale=parsed
    )
    env.filters["code"] = format_code
    add_title_filters(env, locale)
    env.tests["made_up_receipt"] = is_made_up
    return env


def add_title_filters(env: Environment, locale: str) -> None:
    """`titled` (a program object) and `title_of(kind)` (a tier name, a reward, cause,
    action or promotion id, looked up in the context's `program`): program titles in `locale`."""

    def titled(thing: Any) -> str:
        return localized(getattr(thing, "title", None) or thing.name, thing.titles, locale)

    @pass_context
    def title_of(context: Context, key: str, kind: str) -> str:
        program = context.get("program")
        found = _program_object(program, kind, key) if program is not None else None
        return titled(found) if found is not None else key

    env.filters.update(titled=titled, title_of=title_of)


def _program_object(program: Any, kind: str, key: str) -> Any:
    """The program's tier, reward, cause, action or promotion called `key`, or None."""
    if kind == "tier":
        return next((tier for tier in program.tiers.levels if tier.name == key), None)
    find = {
        "reward": program.reward,
        "cause": program.cause,
        "action": program.action,
        "promotion": program.promotion,
        "stamps": program.stamp_card,
        "challenge": program.challenge,
    }[kind]
    return find(key)


def locales() -> list[str]:
    """The locales that ship chat templates, English first."""
    found = sorted(p.name for p in HERE.iterdir() if p.is_dir() and p.name not in NOT_LOCALES)
    return sorted(found, key=lambda name: name != FALLBACK_LOCALE)


@cache
def _chat_environment(locale: str) -> Environment:
    folders = [HERE / locale] if locale != FALLBACK_LOCALE else []
    loader = ChoiceLoader([FileSystemLoader(f) for f in [*folders, HERE / FALLBACK_LOCALE]])
    env = Environment(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    return add_filters(env, locale if locale in locales() else FALLBACK_LOCALE)


@cache
def _text_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "cli"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return add_filters(env, FALLBACK_LOCALE)


def render(template: str, locale: str, /, **context: Any) -> str:
    """A chat message in `locale` (HTML parse mode); undefined variables fail loudly.

    A `zone` in the context (an IANA name: the reader's own time zone, else the program's)
    is the clock every date is read on; without it, UTC.
    """
    return _chat_environment(locale).get_template(f"{template}.j2").render(**context).strip()


def render_text(template: str, /, **context: Any) -> str:
    """Console text for operators (English, not escaped); undefined variables fail loudly."""
    return _text_environment().get_template(f"{template}.txt.j2").render(**context).rstrip()
