"""A `Segment` as SQL conditions on `members`, so recipients are chosen in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, select, text

from domain.segments import Segment
from storage.tables import AccountRow, MemberRow, PurchaseRow

# A purchase's lines are JSON ({"lines": [{"category": ...}, ...]}): one query per dialect.
BOUGHT_CATEGORY = {
    "postgresql": (
        "EXISTS (SELECT 1 FROM purchases AS p "
        "CROSS JOIN LATERAL json_array_elements(p.lines -> 'lines') AS line "
        "WHERE p.member_id = members.id AND line ->> 'category' = :category)"
    ),
    "sqlite": (
        "EXISTS (SELECT 1 FROM purchases AS p, json_each(p.lines, '$.lines') AS line "
        "WHERE p.member_id = members.id "
        "AND json_extract(line.value, '$.category') = :category)"
    ),
}


def reachable_for_marketing() -> list[ColumnElement[bool]]:
    """Who may get a broadcast at all: opted in, reachable, not forgotten."""
    return [
        MemberRow.c.marketing_opt_in.is_(True),
        MemberRow.c.reachable.is_(True),
        MemberRow.c.telegram_id.is_not(None),
        MemberRow.c.forgotten_at.is_(None),
    ]


def segment_conditions(segment: Segment, at: datetime, dialect: str) -> list[ColumnElement[bool]]:
    """The segment's conditions on `members` (all to hold), as of `at`."""
    conditions: list[ColumnElement[bool]] = []
    if segment.tier is not None:
        conditions.append(MemberRow.c.tier == segment.tier)
    if segment.locale is not None:
        conditions.append(MemberRow.c.locale == segment.locale)
    if segment.min_balance:
        conditions.append(
            exists(
                select(AccountRow.c.member_id).where(
                    AccountRow.c.member_id == MemberRow.c.id,
                    AccountRow.c.balance >= segment.min_balance,
                )
            )
        )
    if segment.inactive_days is not None:
        cutoff = at - timedelta(days=segment.inactive_days)
        conditions.append(MemberRow.c.joined_at <= cutoff)
        conditions.append(
            ~exists(
                select(PurchaseRow.c.id).where(
                    PurchaseRow.c.member_id == MemberRow.c.id, PurchaseRow.c.occurred_at > cutoff
                )
            )
        )
    if segment.category is not None:
        bought = text(BOUGHT_CATEGORY[dialect]).bindparams(category=segment.category)
        conditions.append(bought)  # type: ignore[arg-type]
    return conditions
