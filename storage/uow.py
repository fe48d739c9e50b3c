"""The SQLAlchemy unit of work: one Core connection and one transaction per `async with`.

Repositories speak SQLAlchemy Core over an `AsyncConnection`: no ORM session, identity
map or flush, which costs a purchase a third of its time and buys nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError

from domain.errors import DuplicateKey
from storage.aio import AsyncConnection
from storage.database import Database
from storage.repositories.actions import SqlActionClaims
from storage.repositories.api_tokens import SqlApiTokens
from storage.repositories.audit import SqlAudit
from storage.repositories.birthdays import SqlBirthdays
from storage.repositories.broadcasts import SqlBroadcasts
from storage.repositories.causes import SqlCauses
from storage.repositories.challenges import SqlChallenges
from storage.repositories.conversations import SqlConversations
from storage.repositories.gifts import SqlGifts
from storage.repositories.leaderboard import SqlLeaderboard
from storage.repositories.ledger import SqlLedger, SqlTierCredits
from storage.repositories.members import SqlMembers
from storage.repositories.metrics import SqlMetrics
from storage.repositories.nudges import SqlNudges, SqlSurprises
from storage.repositories.outbox import SqlOutbox
from storage.repositories.promotions import SqlPromotions
from storage.repositories.purchases import SqlPurchases
from storage.repositories.referrals import SqlReferrals
from storage.repositories.replay import SqlReplay
from storage.repositories.rewards import SqlRewards
from storage.repositories.staff import SqlStaff
from storage.repositories.stamps import SqlStamps
from storage.repositories.surveys import SqlSurveys
from storage.repositories.trends import SqlTrends


def is_unique_violation(error: IntegrityError) -> bool:
    """Whether the database refused a duplicate key (not a CHECK or foreign key)."""
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    message = str(error.orig)
    return (
        sqlstate == "23505"
        or "UNIQUE constraint failed" in message
        or ("duplicate key value" in message)
    )


def _repositories(conn: AsyncConnection, dialect: str) -> dict[str, object]:
    """The repositories over `conn`, by their names on the unit of work."""
    return {
        "members": SqlMembers(conn),
        "ledger": SqlLedger(conn),
        "tier_credits": SqlTierCredits(conn),
        "purchases": SqlPurchases(conn),
        "referrals": SqlReferrals(conn, dialect),
        "rewards": SqlRewards(conn, dialect),
        "causes": SqlCauses(conn, dialect),
        "conversations": SqlConversations(conn),
        "outbox": SqlOutbox(conn),
        "api_tokens": SqlApiTokens(conn),
        "audit": SqlAudit(conn),
        "nudges": SqlNudges(conn, dialect),
        "surprises": SqlSurprises(conn, dialect),
        "staff": SqlStaff(conn),
        "gifts": SqlGifts(conn, dialect),
        "broadcasts": SqlBroadcasts(conn, dialect),
        "surveys": SqlSurveys(conn, dialect),
        "replay": SqlReplay(conn, dialect),
        "trends": SqlTrends(conn),
        "metrics": SqlMetrics(conn),
        "action_claims": SqlActionClaims(conn, dialect),
        "challenges": SqlChallenges(conn, dialect),
        "birthdays": SqlBirthdays(conn, dialect),
        "leaderboard": SqlLeaderboard(conn, dialect),
        "stamps": SqlStamps(conn, dialect),
        "promotions": SqlPromotions(conn, dialect),
    }


class SqlUnitOfWork:
    """Implements `domain.ports.UnitOfWork`; re-enterable, one fresh transaction each time."""

    members: SqlMembers
    ledger: SqlLedger
    tier_credits: SqlTierCredits
    purchases: SqlPurchases
    referrals: SqlReferrals
    rewards: SqlRewards
    causes: SqlCauses
    conversations: SqlConversations
    outbox: SqlOutbox
    api_tokens: SqlApiTokens
    audit: SqlAudit
    nudges: SqlNudges
    surprises: SqlSurprises
    staff: SqlStaff
    gifts: SqlGifts
    broadcasts: SqlBroadcasts
    surveys: SqlSurveys
    replay: SqlReplay
    trends: SqlTrends
    metrics: SqlMetrics
    action_claims: SqlActionClaims
    challenges: SqlChallenges
    birthdays: SqlBirthdays
    leaderboard: SqlLeaderboard
    stamps: SqlStamps
    promotions: SqlPromotions

    def __init__(self, database: Database, read_only: bool = False, snapshot: bool = False) -> None:
        self.database = database
        self.read_only = read_only
        self.snapshot = snapshot  # a read whose statements all see one snapshot (`begin`)
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        conn = await self.database.begin(write=not self.read_only, snapshot=self.snapshot)
        self._conn = conn
        repositories = self.database.attached(conn)
        if not repositories:  # made once per connection: it is kept for the next unit of work
            repositories.update(_repositories(conn, self.database.dialect))
        vars(self).update(repositories)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        assert conn is not None, "unit of work exited without entering"
        try:
            if exc is None and not self.read_only:
                await conn.commit()
            elif conn.in_transaction():  # not after quick reads alone on PostgreSQL (autocommit)
                await conn.rollback()
        except IntegrityError as error:
            await conn.rollback()
            if is_unique_violation(error):
                raise DuplicateKey(str(error.orig)) from error
            raise
        finally:
            await self.database.end(conn, write=not self.read_only, snapshot=self.snapshot)
        if isinstance(exc, IntegrityError) and is_unique_violation(exc):
            raise DuplicateKey(str(exc.orig)) from exc


@dataclass(frozen=True)
class UnitsOfWork:
    """The two units of work of one database as callers take them, made here only:
    `writer()` for use cases, `reader()` for read-only queries."""

    database: Database

    def writer(self) -> SqlUnitOfWork:
        """A unit of work that commits what it writes."""
        return SqlUnitOfWork(self.database)

    def reader(self) -> SqlUnitOfWork:
        """A read-only unit of work."""
        return SqlUnitOfWork(self.database, read_only=True)
