"""Receipts from the edges (a till's API call, a CSV row group, a sale typed in chat).

`ReceiptIn` is the one value every edge builds and the purchase pipeline takes. What a
receipt line may be is decided here once (`line_problems`), for the API's schema, the
importer's cells and the pipeline itself. A sale typed by a cashier in chat has no till
receipt, so the bot makes an id up to record it once; such an id means nothing to the
customer and is never shown to them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Literal

from domain.codes import normalize_code
from domain.contact import normalize_phone
from domain.earning import PurchaseLine
from domain.errors import InvalidRequest
from domain.models import Member
from domain.validation import MAX_NAME

MADE_UP_PREFIX = "chat-"
MAX_QUANTITY = 100_000
MAX_UNIT_PRICE = Decimal("1000000000")
PRICE_DECIMALS = 4
MAX_RECEIPT_ID = 120  # the ledger stores "receipt:<id>" as a reference of 128 characters
FUTURE_SKEW = timedelta(minutes=10)

LineField = Literal["sku", "category", "quantity", "unit_price"]
MemberKey = tuple[str, int | str]  # a member reference as stored: ("phone", "+1555...")


@dataclass(frozen=True)
class MemberRef:
    """How a till names the customer: by Telegram id, member code or phone."""

    kind: Literal["telegram_id", "member_code", "phone"]
    value: str

    def key(self) -> MemberKey:
        """The stored value this reference names a member by; InvalidRequest when it
        cannot name anyone (a phone that is no phone number, a Telegram id not a number)."""
        if self.kind == "telegram_id":
            if not self.value.isascii() or not self.value.isdigit():
                raise InvalidRequest(f"not a Telegram id: {self.value!r}")
            return self.kind, int(self.value)
        if self.kind == "member_code":
            return self.kind, normalize_code(self.value)
        return self.kind, normalize_phone(self.value)


def member_keys(member: Member) -> list[MemberKey]:
    """Every reference that names `member`."""
    keys: list[tuple[str, int | str | None]] = [
        ("telegram_id", member.telegram_id),
        ("member_code", member.code),
        ("phone", member.phone),
    ]
    return [(kind, value) for kind, value in keys if value is not None]


@dataclass(frozen=True)
class ReceiptIn:
    """One receipt as an edge sends it to the purchase pipeline."""

    receipt_id: str
    member: MemberRef
    lines: list[PurchaseLine]
    occurred_at: datetime | None = None
    store: str | None = None

    @cached_property
    def fingerprint(self) -> str:
        """A hash of what was sent, so a retry is told from a different receipt (worked out
        once: the importer asks before recording, the pipeline when recording)."""
        body = {
            "member": [self.member.kind, self.member.value],
            "lines": [
                [ln.sku, ln.category, ln.quantity, format(ln.unit_price.normalize(), "f")]
                for ln in self.lines
            ],
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "store": self.store,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class LineProblem:
    """What is wrong with one field of a receipt line."""

    field: LineField
    rule: Literal["empty", "too_long", "range", "decimals"]

    def message(self, index: int) -> str:
        """For developers (an API's 422 detail); the importer words it its own way."""
        if self.rule == "empty":
            return f"line {index}: sku and category must not be empty"
        if self.rule == "too_long":
            return f"line {index}: {self.field} must be at most {MAX_NAME} characters"
        if self.field == "quantity":
            return f"line {index}: quantity must be 1..{MAX_QUANTITY}"
        if self.rule == "decimals":
            return f"line {index}: unit_price has more than {PRICE_DECIMALS} decimal places"
        return f"line {index}: unit_price must be 0..{MAX_UNIT_PRICE}"


def line_problems(line: PurchaseLine) -> list[LineProblem]:
    """Everything wrong with a receipt line: the one rule for the API, the importer, /sale."""
    problems: list[LineProblem] = []
    texts: tuple[tuple[LineField, str], ...] = (("sku", line.sku), ("category", line.category))
    for name, text in texts:
        if not text.strip():
            problems.append(LineProblem(name, "empty"))
        elif len(text) > MAX_NAME:
            problems.append(LineProblem(name, "too_long"))
    if not 1 <= line.quantity <= MAX_QUANTITY:
        problems.append(LineProblem("quantity", "range"))
    price = line.unit_price
    if not (price.is_finite() and Decimal(0) <= price <= MAX_UNIT_PRICE):
        problems.append(LineProblem("unit_price", "range"))
    elif _decimals(price) > PRICE_DECIMALS:
        problems.append(LineProblem("unit_price", "decimals"))
    return problems


def _decimals(price: Decimal) -> int:
    exponent = price.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def check_receipt(receipt: ReceiptIn, now: datetime) -> None:
    """Refuse (InvalidRequest) a receipt that cannot be right, before anything is read."""
    if not receipt.lines:
        raise InvalidRequest("a purchase needs at least one line")
    for index, line in enumerate(receipt.lines):
        problems = line_problems(line)
        if problems:
            raise InvalidRequest(problems[0].message(index))
    if not receipt.receipt_id.strip() or len(receipt.receipt_id) > MAX_RECEIPT_ID:
        raise InvalidRequest(f"receipt_id must be 1..{MAX_RECEIPT_ID} characters")
    if receipt.occurred_at is not None and receipt.occurred_at > now + FUTURE_SKEW:
        raise InvalidRequest("occurred_at is in the future")


def made_up_receipt_id() -> str:
    """A new receipt id for a sale recorded in chat."""
    return f"{MADE_UP_PREFIX}{secrets.token_hex(5)}"


def is_made_up(receipt_id: str) -> bool:
    """Whether the bot made this receipt id up (rather than the merchant's till)."""
    return receipt_id.startswith(MADE_UP_PREFIX)
