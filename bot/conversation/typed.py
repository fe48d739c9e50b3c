"""What people type in chat, read one way for every step: numbers, amounts, readable text.

The rules, the same wherever a number is typed (a donation, /adjust, a sale's amount, a
segment's days or balance, a broadcast's bonus, a Telegram id):

* Whitespace around the text is ignored. What is left must be ASCII digits `0-9` only,
  with one leading `+` or `-` where the step takes a sign (/adjust). Other digits
  (`²`, `①`, Arabic-Indic `٣`, full-width `３`), a decimal point or comma (`1.5`, `1,5`)
  and thousands separators or spaces (`1 000`, `1,000`) are refused as "not a whole
  number", never guessed at: `1.5` is not 15.
* Leading zeros do not count; a number beyond what a database column holds is "too
  large" (or "too small") without ever being converted (`domain.validation`: Python
  refuses `int()` of more than 4,300 digits). Each step then has its range: below it
  "too small", above it "too large".
* Money (a sale's amount) is digits, then optionally one `.` or `,` and at most the
  currency's minor digits (two for EUR, none for JPY): `12.50` or `12,50`. No sign, no
  exponent, no NaN or Infinity (Decimal would read those), no thousands separators.
* Text that cannot be stored (`domain.validation`: NUL, a lone surrogate) or that holds
  any other control character (Unicode's Cc, except tab and line breaks) is unreadable:
  it is refused before any command or step sees it, so it never reaches the database.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from babel.numbers import get_currency_precision

from domain import validation

MONEY_DECIMALS = 4  # what the database's money columns keep

Reason = Literal["whole", "amount", "too_small", "too_large"]
_WHOLE = re.compile(r"([+-]?)([0-9]+)")
_MONEY = re.compile(r"([0-9]+)(?:[.,]([0-9]+))?")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # Cc but \t \n \r


class TypedNumberError(ValueError):
    """Why a typed number was refused, with what the reply shows: the range, sign, decimals."""

    def __init__(
        self,
        reason: Reason,
        *,
        minimum: int | Decimal,
        maximum: int | Decimal,
        signed: bool = False,
        decimals: int = 0,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.minimum, self.maximum = minimum, maximum
        self.signed, self.decimals = signed, decimals


def whole_number(text: str, *, minimum: int, maximum: int, signed: bool = False) -> int:
    """The whole number typed, within [minimum, maximum]; TypedNumberError otherwise."""

    def refused(reason: Reason) -> TypedNumberError:
        return TypedNumberError(reason, minimum=minimum, maximum=maximum, signed=signed)

    found = _WHOLE.fullmatch(text.strip())
    if found is None or (found[1] and not signed):
        raise refused("whole")
    sign, magnitude = found[1], _magnitude(found[2])
    if magnitude is None:
        raise refused("too_small" if sign == "-" else "too_large")
    number = -magnitude if sign == "-" else magnitude
    if number < minimum:
        raise refused("too_small")
    if number > maximum:
        raise refused("too_large")
    return number


def money(text: str, *, currency: str, maximum: Decimal) -> Decimal:
    """A positive amount of `currency` up to `maximum`, with at most its minor digits."""
    decimals = min(get_currency_precision(currency), MONEY_DECIMALS)
    smallest = Decimal(1).scaleb(-decimals)

    def refused(reason: Reason) -> TypedNumberError:
        return TypedNumberError(reason, minimum=smallest, maximum=maximum, decimals=decimals)

    found = _MONEY.fullmatch(text.strip())
    if found is None or len(found[2] or "") > decimals:
        raise refused("amount")
    whole = _magnitude(found[1])
    if whole is None:
        raise refused("too_large")
    amount = Decimal(f"{whole}.{found[2]}" if found[2] else whole)
    if amount < smallest:
        raise refused("too_small")
    if amount > maximum:
        raise refused("too_large")
    return amount


def telegram_id(text: str) -> int:
    """A Telegram user id typed by hand (a positive number a database column can hold)."""
    return whole_number(text, minimum=1, maximum=validation.MAX_BIGINT)


def _magnitude(digits: str) -> int | None:
    """ASCII digits as a number a database column holds, or None, never converting more
    (leading zeros dropped first: `int()` counts them against its 4,300-digit limit)."""
    return validation.whole_number(digits.lstrip("0") or "0", 0, validation.MAX_BIGINT)


def unreadable(text: str | None) -> bool:
    """Whether text holds a control character (other than tab and line breaks) or a lone
    surrogate: nothing a person means to type, and nothing a database should be sent."""
    return text is not None and (
        validation.text_problem(text) is not None or _CONTROL.search(text) is not None
    )
