"""What the nudge rules and the surprise draw read in bulk, and what they record.

Facts are gathered for one range of member ids at a time with a handful of set-based
queries (each a range scan of an index led by `member_id`), so a million members are
screened chunk by chunk without ever holding them all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update

from domain.nudges import MemberFacts, Nudge, favourite_category
from storage.aio import AsyncConnection
from storage.repositories.upsert import dialect_insert, insert_ignoring_conflict
from storage.tables import (
    LOT_IS_OPEN,
    AccountRow,
    LotRow,
    MemberRow,
    NudgeLogRow,
    PurchaseRow,
    SurpriseDayRow,
    SurpriseRow,
    TierCreditRow,
    VoucherRow,
)

NOT_EXPIRING: tuple[int, datetime | None] = (0, None)


def spending(receipts: Sequence[dict[str, Any]]) -> Iterator[tuple[str, Decimal]]:
    """(category, amount) of every line of stored receipts (`PurchaseRow.c.lines`)."""
    for receipt in receipts:
        for line in receipt.get("lines", []):
            yield line["category"], Decimal(line["unit_price"]) * int(line["quantity"])


class SqlNudges:
    """Implements `domain.ports.NudgeRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def last_member_id(self) -> int:
        return int((await self.conn.execute(select(func.max(MemberRow.c.id)))).scalar() or 0)

    async def facts(
        self,
        first_id: int,
        last_id: int,
        now: datetime,
        expiring_until: datetime,
        credits_since: datetime,
    ) -> list[MemberFacts]:
        """Facts of the reachable, not forgotten members with ids in [first_id, last_id]."""
        members = (
            await self.conn.execute(
                select(
                    MemberRow.c.id,
                    MemberRow.c.code,
                    MemberRow.c.timezone,
                    MemberRow.c.reminders_opt_in,
                    MemberRow.c.joined_at,
                    MemberRow.c.tier,
                    MemberRow.c.invite_shown_at,
                    AccountRow.c.balance,
                )
                .join(AccountRow, AccountRow.c.member_id == MemberRow.c.id)
                .where(
                    MemberRow.c.id.between(first_id, last_id),
                    MemberRow.c.forgotten_at.is_(None),
                    MemberRow.c.reachable.is_(True),
                    MemberRow.c.telegram_id.is_not(None),
                )
                .order_by(MemberRow.c.id)
            )
        ).all()
        if not members:
            return []
        expiring = await self._expiring(first_id, last_id, now, expiring_until)
        credits = await self._credits(first_id, last_id, credits_since)
        purchases = await self._last_purchases(first_id, last_id)
        redeemed = await self._redeemed(first_id, last_id)
        causes, last_nudge = await self._nudged(first_id, last_id)
        none: frozenset[str] = frozenset()
        return [  # rows unpacked as tuples: ten times faster than by attribute name
            MemberFacts(
                member_id,
                code,
                timezone,
                opt_in,
                joined_at,
                tier,
                balance,
                credits.get(member_id, 0),
                *expiring.get(member_id, NOT_EXPIRING),
                purchases.get(member_id),
                redeemed.get(member_id, none),
                shown is not None,
                last_nudge.get(member_id),
                causes.get(member_id, none),
            )
            for member_id, code, timezone, opt_in, joined_at, tier, shown, balance in members
        ]

    async def _expiring(
        self, first_id: int, last_id: int, now: datetime, until: datetime
    ) -> dict[int, tuple[int, datetime | None]]:
        rows = await self.conn.execute(
            select(LotRow.c.member_id, func.sum(LotRow.c.remaining), func.min(LotRow.c.expires_at))
            .where(
                LotRow.c.member_id.between(first_id, last_id),
                LOT_IS_OPEN,
                LotRow.c.expires_at > now,
                LotRow.c.expires_at <= until,
            )
            .group_by(LotRow.c.member_id)
        )
        return {member_id: (int(points), first) for member_id, points, first in rows}

    async def _credits(self, first_id: int, last_id: int, since: datetime) -> dict[int, int]:
        rows = await self.conn.execute(
            select(TierCreditRow.c.member_id, func.sum(TierCreditRow.c.credits))
            .where(
                TierCreditRow.c.member_id.between(first_id, last_id),
                TierCreditRow.c.occurred_at > since,
            )
            .group_by(TierCreditRow.c.member_id)
        )
        return {member_id: int(total) for member_id, total in rows}

    async def _last_purchases(self, first_id: int, last_id: int) -> dict[int, datetime]:
        rows = await self.conn.execute(
            select(PurchaseRow.c.member_id, func.max(PurchaseRow.c.occurred_at))
            .where(PurchaseRow.c.member_id.between(first_id, last_id))
            .group_by(PurchaseRow.c.member_id)
        )
        return {member_id: last for member_id, last in rows}

    async def _redeemed(self, first_id: int, last_id: int) -> dict[int, frozenset[str]]:
        rows = await self.conn.execute(
            select(VoucherRow.c.member_id, VoucherRow.c.reward_id)
            .distinct()
            .where(VoucherRow.c.member_id.between(first_id, last_id))
        )
        found: defaultdict[int, set[str]] = defaultdict(set)
        for member_id, reward_id in rows:
            found[member_id].add(reward_id)
        return {member_id: frozenset(ids) for member_id, ids in found.items()}

    async def _nudged(
        self, first_id: int, last_id: int
    ) -> tuple[dict[int, frozenset[str]], dict[int, datetime]]:
        rows = await self.conn.execute(
            select(NudgeLogRow.c.member_id, NudgeLogRow.c.cause_key, NudgeLogRow.c.at).where(
                NudgeLogRow.c.member_id.between(first_id, last_id)
            )
        )
        causes: defaultdict[int, set[str]] = defaultdict(set)
        latest: dict[int, datetime] = {}
        for member_id, cause_key, at in rows:
            causes[member_id].add(cause_key)
            latest[member_id] = max(at, latest.get(member_id, at))
        return {m: frozenset(keys) for m, keys in causes.items()}, latest

    async def favourite_categories(self, member_ids: Sequence[int]) -> dict[int, str]:
        """Each member's favourite category, from the lines of their receipts."""
        if not member_ids:
            return {}
        rows = await self.conn.execute(
            select(PurchaseRow.c.member_id, PurchaseRow.c.lines).where(
                PurchaseRow.c.member_id.in_(member_ids)
            )
        )
        receipts: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
        for member_id, stored in rows:
            receipts[member_id].append(stored)
        found = {
            member: favourite_category(spending(stored)) for member, stored in receipts.items()
        }
        return {member: category for member, category in found.items() if category}

    async def record(self, nudges: Sequence[Nudge], at: datetime) -> set[int]:
        """Log nudges; the member ids whose nudge is new (a cause already logged is skipped)."""
        if not nudges:
            return set()
        statement = (
            dialect_insert(self.dialect, NudgeLogRow)
            .on_conflict_do_nothing()
            .returning(NudgeLogRow.c.member_id)
        )
        rows = await self.conn.execute(
            statement,
            [
                {"member_id": n.member_id, "kind": n.kind, "cause_key": n.cause_key, "at": at}
                for n in nudges
            ],
        )
        return set(rows.scalars())

    async def mark_invite_shown(self, member_id: int, at: datetime) -> None:
        """Remember the first time a member saw their invite link."""
        await self.conn.execute(
            update(MemberRow)
            .where(MemberRow.c.id == member_id, MemberRow.c.invite_shown_at.is_(None))
            .values(invite_shown_at=at)
        )


class SqlSurprises:
    """Implements `domain.ports.SurpriseRepository`."""

    def __init__(self, conn: AsyncConnection, dialect: str) -> None:
        self.conn, self.dialect = conn, dialect

    async def eligible(self, since: datetime, min_purchases: int) -> list[int]:
        """Reachable members with at least `min_purchases` receipts after `since`, by id."""
        statement = (
            select(PurchaseRow.c.member_id)
            .join(MemberRow, MemberRow.c.id == PurchaseRow.c.member_id)
            .where(
                PurchaseRow.c.occurred_at > since,
                MemberRow.c.forgotten_at.is_(None),
                MemberRow.c.reachable.is_(True),
            )
            .group_by(PurchaseRow.c.member_id)
            .having(func.count() >= min_purchases)
            .order_by(PurchaseRow.c.member_id)
        )
        return list((await self.conn.execute(statement)).scalars())

    async def received(self, member_id: int, day: str) -> bool:
        statement = select(SurpriseRow.c.member_id).where(
            SurpriseRow.c.member_id == member_id, SurpriseRow.c.day == day
        )
        return (await self.conn.execute(statement)).first() is not None

    async def take_budget(self, day: str, points: int, budget: int) -> bool:
        """Count `points` against the day's budget unless that would exceed it."""
        await self.conn.execute(
            insert_ignoring_conflict(self.dialect, SurpriseDayRow, day=day, granted=0)
        )
        taken = await self.conn.execute(
            update(SurpriseDayRow)
            .where(SurpriseDayRow.c.day == day, SurpriseDayRow.c.granted + points <= budget)
            .values(granted=SurpriseDayRow.c.granted + points)
            .returning(SurpriseDayRow.c.granted)
        )
        return taken.first() is not None

    async def add(
        self, member_id: int, day: str, points: int, transaction_id: int, at: datetime
    ) -> None:
        """Record a member's surprise of the day; a second one fails on the key."""
        await self.conn.execute(
            insert(SurpriseRow).values(
                member_id=member_id, day=day, points=points, transaction_id=transaction_id, at=at
            )
        )
