"""Column types that keep domain values exact on both SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

MONEY_SCALE = Decimal("0.0001")


def utc(stored: datetime) -> datetime:
    """A stored (naive, UTC) datetime as an aware one."""
    return stored.replace(tzinfo=UTC)


def money(stored: int) -> Decimal:
    """A stored count of 1/10,000ths as the amount."""
    return Decimal(stored) / 10000


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite stores no offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)


class Money(TypeDecorator[Decimal]):
    """A Decimal amount stored as an integer count of 1/10,000ths, exact on every database."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = value / MONEY_SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"amount {value} has more than 4 decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else money(value)
