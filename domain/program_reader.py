"""The building blocks of reading a program file: a `Reader` per TOML table that knows its
path and records every problem as "path.to.key: reason", and the value readers the tables
share (flags, "HH:MM" pairs, per-locale titles, dates, lists of names, references).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from domain.program import Titles

LOCALE = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]{2,8})*")
_HH_MM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
IDENTIFIER = re.compile(r"[a-z0-9_-]{1,24}")

Position = tuple[int, ...]
Problem = tuple[Position, str]


def show(value: object) -> str:
    """A value as the message quotes it: strings quoted, TOML spelling for the rest."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, date | time):
        return value.isoformat()
    return f"a {type(value).__name__}"


def int_wording(minimum: int, maximum: int | None) -> str:
    """How an integer's allowed range reads in a message."""
    if maximum is not None:
        return f"an integer from {minimum} to {maximum}"
    if minimum == 0:
        return "a non-negative integer"
    if minimum == 1:
        return "a positive integer"
    return f"an integer >= {minimum}"


def join_path(path: str, key: str) -> str:
    """`key` inside the table at `path` ("" is the root)."""
    return f"{path}.{key}" if path else key


class Reader:
    """One TOML table being read: tracks its path, the keys read and the problems found."""

    def __init__(
        self,
        data: Mapping[str, object],
        path: str,
        position: Position,
        sink: list[Problem],
        live: bool = True,
    ) -> None:
        self.data = data
        self.path = path
        self.position = position
        self.sink = sink
        self.live = live
        self.seen: set[str] = set()
        self.failed: set[str] = set()
        self.order = {key: index for index, key in enumerate(data)}

    def key_position(self, key: str) -> Position:
        """Where `key` sits in the file; a missing key counts as at the end of its table."""
        return (*self.position, self.order.get(key, len(self.order)))

    def report(self, key: str, reason: str, index: int | None = None) -> None:
        """Record a problem with `key` (or with element `index` of the array at `key`)."""
        self.failed.add(key)
        if not self.live:
            return
        path = join_path(self.path, key)
        position = self.key_position(key)
        if index is not None:
            path, position = f"{path}[{index}]", (*position, index)
        self.sink.append((position, f"{path}: {reason}"))

    def ok(self, key: str) -> bool:
        """True when `key` was read without a problem."""
        return key not in self.failed

    def take(self, key: str, required: bool = True) -> object | None:
        """The raw value of `key`; None (reported when required) if absent."""
        self.seen.add(key)
        if key in self.data:
            return self.data[key]
        if required:
            self.report(key, "missing")
        return None

    def finish(self) -> None:
        """Report every key nobody asked for."""
        for key in self.data:
            if key not in self.seen:
                self.report(key, "unknown key")

    def child(self, data: Mapping[str, object], path: str, position: Position) -> Reader:
        """A reader for a nested table sharing this one's problem list."""
        return Reader(data, path, position, self.sink, self.live)

    def table(self, key: str) -> Reader:
        """The required sub-table `key`; a silent empty reader when it is unusable."""
        value = self.take(key)
        if value is None:
            return Reader({}, join_path(self.path, key), (), self.sink, live=False)
        if not isinstance(value, dict):
            self.report(key, f"must be a table, got {show(value)}")
            return Reader({}, join_path(self.path, key), (), self.sink, live=False)
        return self.child(value, join_path(self.path, key), self.key_position(key))

    def tables(self, key: str, required: bool = False) -> list[Reader]:
        """The array of tables `key`, empty when absent and optional."""
        value = self.take(key, required)
        if value is None:
            return []
        if not isinstance(value, list):
            self.report(key, f"must be an array of tables, got {show(value)}")
            return []
        readers = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.report(key, f"must be a table, got {show(item)}", index)
                continue
            path = f"{join_path(self.path, key)}[{index}]"
            readers.append(self.child(item, path, (*self.key_position(key), index)))
        return readers

    def text(self, key: str) -> str:
        """A required non-empty string."""
        return self.optional_text(key, required=True) or ""

    def optional_text(self, key: str, required: bool = False) -> str | None:
        """A non-empty string, None when absent."""
        value = self.take(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.report(key, f"must be a non-empty string, got {show(value)}")
            return None
        return value

    def identifier(self, key: str) -> str:
        """A required id: 1 to 24 of a-z, 0-9, '_' and '-' (it travels in button data and URLs)."""
        value = self.text(key)
        if value and not IDENTIFIER.fullmatch(value):
            self.report(key, f"must be 1 to 24 of a-z, 0-9, _ and -, got {show(value)}")
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        """A required string among `choices`; the first choice when it is wrong."""
        value = self.take(key)
        if value is None:
            return choices[0]
        if value not in choices:
            self.report(key, f"must be one of {', '.join(choices)}, got {show(value)}")
            return choices[0]
        return str(value)

    def integer(self, key: str, minimum: int, maximum: int | None = None) -> int:
        """A required integer in range; `minimum` when it is wrong."""
        value = self.optional_integer(key, minimum, maximum, required=True)
        return minimum if value is None else value

    def optional_integer(
        self, key: str, minimum: int, maximum: int | None = None, required: bool = False
    ) -> int | None:
        """An integer in range, None when absent or wrong."""
        value = self.take(key, required)
        if value is None:
            return None
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < minimum
            or (maximum is not None and value > maximum)
        ):
            self.report(key, f"must be {int_wording(minimum, maximum)}, got {show(value)}")
            return None
        return value

    def number(
        self,
        key: str,
        minimum: int,
        maximum: int | None = None,
        exclusive: bool = False,
    ) -> Decimal:
        """A required number (integer or float) as an exact Decimal; `minimum` when wrong."""
        fallback = Decimal(minimum)
        value = self.take(key)
        if value is None:
            return fallback
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.report(key, f"must be a number, got {show(value)}")
            return fallback
        if isinstance(value, float) and not math.isfinite(value):
            self.report(key, f"must be a finite number, got {show(value)}")
            return fallback
        if maximum is not None and not minimum <= value <= maximum:
            self.report(key, f"must be between {minimum} and {maximum}, got {show(value)}")
            return fallback
        if exclusive and value <= minimum:
            self.report(key, f"must be greater than {minimum}, got {show(value)}")
            return fallback
        if value < minimum:
            self.report(key, f"must be at least {minimum}, got {show(value)}")
            return fallback
        return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


def read_flag(table: Reader, key: str, default: bool = False) -> bool:
    """An optional true/false, `default` when absent or wrong."""
    value = table.take(key, required=False)
    if value is None:
        return default
    if not isinstance(value, bool):
        table.report(key, f"must be true or false, got {show(value)}")
        return default
    return value


def read_hours(table: Reader, key: str) -> tuple[time, time]:
    """Two distinct "HH:MM" times; the window may wrap midnight."""
    fallback = (time(0), time(0))
    value = table.take(key)
    if value is None:
        return fallback
    if not isinstance(value, list) or len(value) != 2:
        table.report(key, f'must be an array of two "HH:MM" times, got {show(value)}')
        return fallback
    times: list[time] = []
    for index, item in enumerate(value):
        match = _HH_MM.fullmatch(item) if isinstance(item, str) else None
        if match is None:
            table.report(key, f'must be a time "HH:MM", got {show(item)}', index)
        else:
            times.append(time(int(match.group(1)), int(match.group(2))))
    if len(times) != 2:
        return fallback
    if times[0] == times[1]:
        table.report(key, "start and end must differ")
        return fallback
    return (times[0], times[1])


def optional_choice(table: Reader, key: str, choices: tuple[str, ...]) -> str:
    """A string among `choices`; the first choice (the default) when absent or wrong."""
    if key not in table.data:
        table.take(key, required=False)
        return choices[0]
    return table.choice(key, choices)


def read_optional_hours(table: Reader, key: str) -> tuple[time, time] | None:
    """Like `read_hours`, None when absent or wrong."""
    if key not in table.data:
        table.take(key, required=False)
        return None
    hours = read_hours(table, key)
    return hours if table.ok(key) else None


def read_title(
    table: Reader, key: str, locales: Sequence[str], required: bool = True
) -> tuple[str, Titles]:
    """A title as one string, or as a table of one per locale (`{ en = "...", es = "..." }`)
    that gives the program's first locale and names only the program's `locales`.

    Returns the first locale's text and every (locale, text), first locale first; a plain
    string gives no pairs. `locales` empty (the [program] table was wrong): any locale code.
    """
    value = table.take(key, required)
    if value is None:
        return "", ()
    if isinstance(value, str):
        if not value.strip():
            table.report(key, f"must be a non-empty string, got {show(value)}")
            return "", ()
        return value, ()
    if not isinstance(value, dict):
        table.report(key, f"must be a non-empty string, got {show(value)}")
        return "", ()
    if not value:
        table.report(key, 'must give a title per locale like { en = "...", es = "..." }')
        return "", ()
    sub = table.child(value, join_path(table.path, key), table.key_position(key))
    texts: dict[str, str] = {}
    for code, text in value.items():
        if locales and code not in locales:
            sub.report(code, f"not one of the program's locales ({', '.join(locales)})")
        elif not locales and not LOCALE.fullmatch(code):
            sub.report(code, 'must be a locale code like "en" or "pt_BR"')
        elif not isinstance(text, str) or not text.strip():
            sub.report(code, f"must be a non-empty string, got {show(text)}")
        else:
            texts[code] = text
    first = locales[0] if locales else next(iter(value))
    if first not in value:
        table.report(
            key,
            f"must give the program's first locale {show(first)}, "
            "the one every other locale falls back to",
        )
    order = list(locales) or list(texts)
    return texts.get(first, ""), tuple((code, texts[code]) for code in order if code in texts)


EARLIEST, LATEST = date(2000, 1, 1), date(9998, 12, 31)


def read_moment(
    table: Reader, key: str, end: bool = False, required: bool = True
) -> datetime | None:
    """A TOML local date or local date-time, as a naive wall-clock time (the caller's time
    zone gives it meaning); None when absent or wrong.

    A date means the start of that day, or with `end` the end of it (the next midnight), so
    `ends = 2026-12-07` includes the 7th.
    """
    value = table.take(key, required)
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
        if value.tzinfo is not None:
            table.report(
                key,
                "must be a local date-time without an offset (it is read in "
                f"program.timezone), got {show(value)}",
            )
            return None
    elif isinstance(value, date):
        moment = datetime.combine(value, time()) + (timedelta(days=1) if end else timedelta())
    else:
        table.report(
            key,
            "must be a date like 2026-12-01 or a local date-time like "
            f"2026-12-01T16:00:00 (without quotes), got {show(value)}",
        )
        return None
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        table.report(key, f"must be from {EARLIEST} to {LATEST}, got {show(value)}")
        return None
    return moment


def read_names(table: Reader, key: str, what: str) -> tuple[str, ...]:
    """An optional non-empty array of distinct non-empty strings (categories, SKUs); `what`
    names one in messages ("category")."""
    value = table.take(key, required=False)
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        table.report(key, f"must be a non-empty array of strings, got {show(value)}")
        return ()
    names: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            table.report(key, f"must be a non-empty string, got {show(item)}", index)
        elif item in names:
            table.report(key, f"duplicate {what} {show(item)}", index)
        else:
            names.append(item)
    return tuple(names)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def read_weekdays(table: Reader, key: str) -> tuple[int, ...]:
    """An optional non-empty array of distinct weekday names, as numbers (0 = Monday)."""
    value = table.take(key, required=False)
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        table.report(key, f"must be a non-empty array of {', '.join(WEEKDAYS)}, got {show(value)}")
        return ()
    days: list[int] = []
    for index, item in enumerate(value):
        if item not in WEEKDAYS:
            table.report(key, f"must be one of {', '.join(WEEKDAYS)}, got {show(item)}", index)
        elif WEEKDAYS.index(item) in days:
            table.report(key, f"duplicate weekday {show(item)}", index)
        else:
            days.append(WEEKDAYS.index(item))
    return tuple(sorted(days))


def check_reference(
    table: Reader, key: str, value: str | None, known: Sequence[str], what: str
) -> None:
    """Report `value` at `key` when it is not among `known`, the ids of the program's
    `what`s (e.g. "reward"); nothing to check when absent."""
    if value is None or value in known:
        return
    listed = f"{what}s are {', '.join(known)}" if known else f"the program has no {what}s"
    table.report(key, f"names no {what} ({show(value)}); {listed}")
