"""Who a broadcast goes to: a segment of members, every given condition holding (AND).

Pure description; `storage` translates it to SQL. Opted-out, unreachable and forgotten
members are always left out, whatever the segment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

MAX_INACTIVE_DAYS = 36_500  # a hundred years: any more is a typing slip (and overflows a date)
MAX_MIN_BALANCE = 1_000_000_000


@dataclass(frozen=True)
class Segment:
    """Members matching every condition that is set; no condition at all means everyone."""

    tier: str | None = None
    inactive_days: int | None = None  # no purchase (and not joined) within this many days
    category: str | None = None  # bought something in this category, ever
    locale: str | None = None
    min_balance: int | None = None

    def __post_init__(self) -> None:
        for name in ("inactive_days", "min_balance"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")

    @property
    def everyone(self) -> bool:
        """Whether no condition is set."""
        return all(value is None for value in asdict(self).values())

    def as_dict(self) -> dict[str, Any]:
        """The conditions that are set, as JSON-ready data (stored with the broadcast)."""
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        """The segment `as_dict` described; unknown keys are refused."""
        known = {field.name for field in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown segment conditions: {', '.join(sorted(unknown))}")
        return cls(**data)
