"""Request and response bodies of the merchant API, validated by pydantic.

Every text of a request is checked by `storable` (no NUL, no lone surrogate: the `Strict`
base runs it on every field) and has a length that fits its column, and every integer is
bounded within BIGINT, so bad input is a 422 naming the field, never a database error.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.receipts import MAX_QUANTITY, MAX_RECEIPT_ID, MAX_UNIT_PRICE, PRICE_DECIMALS
from domain.validation import (
    EARLIEST,
    MAX_BIGINT,
    MAX_NAME,
    TextProblem,
    text_problem,
    utc_moment,
)

MAX_CODE = 40  # a code as typed (dashes and spaces allowed), or a Mini App card code (36)
TEXT_PROBLEMS: dict[TextProblem, str] = {
    "nul": "must not contain a NUL character (\\u0000)",
    "surrogate": "must be valid Unicode (it contains a lone surrogate)",
}


def storable(value: str) -> str:
    """The value, if the database can store it (its length is the field's own constraint)."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(TEXT_PROBLEMS[problem])
    return value


class Strict(BaseModel):
    """Unknown fields are refused, so a typo is an error and not silently ignored; every
    text must be storable."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        return storable(value) if isinstance(value, str) else value


class MemberIn(Strict):
    """Exactly one way to name the customer."""

    telegram_id: int | None = Field(default=None, ge=1, le=MAX_BIGINT)
    member_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CODE,
        description="With or without the dash, in any case",
    )
    phone: str | None = Field(default=None, min_length=4, max_length=32)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [v for v in (self.telegram_id, self.member_code, self.phone) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of telegram_id, member_code, phone")
        return self


class ItemIn(Strict):
    """One receipt line."""

    sku: str = Field(min_length=1, max_length=MAX_NAME)
    category: str = Field(min_length=1, max_length=MAX_NAME)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    unit_price: Decimal = Field(ge=0, le=MAX_UNIT_PRICE, decimal_places=PRICE_DECIMALS)


class PurchaseIn(Strict):
    """A receipt from the till."""

    receipt_id: str = Field(min_length=1, max_length=MAX_RECEIPT_ID)
    member: MemberIn
    items: list[ItemIn] = Field(min_length=1, max_length=500)
    occurred_at: AwareDatetime | None = None
    store: str | None = Field(default=None, max_length=128)

    @field_validator("occurred_at")
    @classmethod
    def _storable_time(cls, value: datetime | None) -> datetime | None:
        """Kept as sent (its offset is part of the receipt's fingerprint), if storable."""
        if value is not None and utc_moment(value) is None:
            raise ValueError(f"must be a time from {EARLIEST.date()} on, with a UTC equivalent")
        return value


class PurchaseOut(BaseModel):
    """Points and tier credits awarded, and the member's balance and tier after."""

    receipt_id: str
    member_code: str
    points_awarded: int
    tier_credits: int
    breakdown: list[dict[str, Any]] = Field(
        description='{"reason", "detail", "points"} before the tier multiplier: spend (a '
        "category), item (a SKU), visit, promotion (a promotion id: its extra points and "
        "bonus), expired (a receipt too old to earn); then tier_multiplier (the tier)"
    )
    balance: int
    tier: str
    stamps: list[dict[str, Any]] | None = Field(
        default=None,
        description="the stamp cards the receipt stamped (absent when none): card, earned, "
        "stamps (on the card now), count, vouchers (reward, code, expires_on) issued by the "
        "cards it filled; a code is null when the reward was out of stock",
    )
    round_up: dict[str, Any] | None = Field(
        default=None,
        description="absent unless the member rounds up: cause, kept, donated (points_awarded "
        "= kept + donated; balance is after the donation)",
    )


class HeldOut(BaseModel):
    """A receipt for a phone no member has yet: held, credited when someone shares it."""

    receipt_id: str
    held_for_phone: str


class RefundIn(Strict):
    """Money given back on a receipt; `refund_id` makes a retry safe."""

    receipt_id: str = Field(min_length=1, max_length=MAX_RECEIPT_ID)
    amount: Decimal = Field(gt=0, le=1_000_000_000, decimal_places=4)
    refund_id: str | None = Field(default=None, min_length=1, max_length=MAX_RECEIPT_ID)


class RefundOut(BaseModel):
    """What the refund took back, and what it could not (the shortfall)."""

    receipt_id: str
    amount: Decimal
    points_clawed: int
    points_shortfall: int
    tier_credits_clawed: int
    refunded_total: Decimal
    receipt_total: Decimal
    balance: int
    tier: str


class MemberOut(BaseModel):
    """A member's account."""

    member_code: str
    tier: str
    balance: int
    tier_credits: int
    next_tier: str | None
    credits_to_next_tier: int
    points_expiring_within_30_days: int
    first_expiry: datetime | None


class AdjustmentIn(Strict):
    """Points added (positive) or removed (negative) by hand, with the reason."""

    points: int = Field(ge=-10_000_000, le=10_000_000)
    reason: str = Field(min_length=1, max_length=500)


class AdjustmentOut(BaseModel):
    """The balance after an adjustment."""

    member_code: str
    balance: int


class VoucherOut(BaseModel):
    """A voucher and its state at the till."""

    code: str
    reward_id: str
    state: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None


class ErrorOut(BaseModel):
    """Every error answer: a stable code and a sentence for people."""

    error: str
    detail: str
    fields: list[str] | None = Field(None, description="422: each field and what is wrong")


class ButtonIn(Strict):
    """A button under a broadcast: a link, or a gift claimed once per member."""

    text: str = Field(min_length=1, max_length=MAX_NAME)
    url: str | None = Field(default=None, max_length=512)
    bonus_points: int | None = Field(default=None, ge=1, le=100_000)
    reward_id: str | None = Field(default=None, min_length=1, max_length=24)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [v for v in (self.url, self.bonus_points, self.reward_id) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of url, bonus_points, reward_id")
        return self


class SegmentIn(Strict):
    """Who receives a broadcast: members matching every condition given (none: everyone)."""

    tier: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    inactive_days: int | None = Field(default=None, ge=0, le=36_500)
    category: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    locale: str | None = Field(default=None, min_length=2, max_length=16)
    min_balance: int | None = Field(default=None, ge=0, le=1_000_000_000)


class BroadcastIn(Strict):
    """A broadcast: Telegram HTML text (a caption with a photo), an optional button, the
    segment."""

    text: str = Field("", max_length=20_000)
    photo: str | None = Field(
        None,
        min_length=1,
        max_length=2048,
        description="A Telegram file_id of a photo, or an http(s) URL Telegram fetches",
    )
    button: ButtonIn | None = None
    segment: SegmentIn = Field(default_factory=SegmentIn)


class BroadcastOut(BaseModel):
    """A broadcast and how far its sending has come."""

    id: int
    state: str
    created_at: datetime
    created_by: str
    segment: dict[str, Any]
    total: int
    sent: int
    blocked: int
    failed: int
    pending: int
    cancelled: int
    stop_reason: str | None = Field(
        None, description="Why the bot stopped it: Telegram refused its content"
    )


class BotHealthOut(BaseModel):
    """The bot in this process: when it last handled a Telegram update."""

    last_update_at: datetime | None = Field(description="None until the first update")
    seconds_since_last_update: float | None


class HealthOut(BaseModel):
    """`GET /healthz`: 200 when the database answers; 503 (with Retry-After, `error` and
    `detail`) when not."""

    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
    outbox_backlog: int | None = Field(
        description="Messages queued and not yet sent; None when the database is down"
    )
    bot: BotHealthOut | None = Field(description="None when this process runs no bot")
    error: str | None = None
    detail: str | None = None
