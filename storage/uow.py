"""The SQLAlchemy unit of work: one `AsyncSession` and one transaction per `async with`."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import DuplicateKey
from storage.database import Database
from storage.repositories.causes import SqlCauses
from storage.repositories.ledger import SqlLedger, SqlTierCredits
from storage.repositories.members import SqlMembers
from storage.repositories.purchases import SqlPurchases
from storage.repositories.referrals import SqlReferrals
from storage.repositories.rewards import SqlRewards


def is_unique_violation(error: IntegrityError) -> bool:
    """Whether the database refused a duplicate key (not a CHECK or foreign key)."""
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    message = str(error.orig)
    return sqlstate == "23505" or "UNIQUE constraint failed" in message or (
        "duplicate key value" in message
    )


class SqlUnitOfWork:
    """Implements `domain.ports.UnitOfWork`; re-enterable, one fresh transaction each time."""

    members: SqlMembers
    ledger: SqlLedger
    tier_credits: SqlTierCredits
    purchases: SqlPurchases
    referrals: SqlReferrals
    rewards: SqlRewards
    causes: SqlCauses

    def __init__(self, database: Database, read_only: bool = False) -> None:
        self.database = database
        self.read_only = read_only
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        engine = self.database.reader if self.read_only else self.database.writer
        session = AsyncSession(engine, expire_on_commit=False, autoflush=False)
        self._session = session
        self.members = SqlMembers(session)
        self.ledger = SqlLedger(session)
        self.tier_credits = SqlTierCredits(session)
        self.purchases = SqlPurchases(session)
        self.referrals = SqlReferrals(session, self.database.dialect)
        self.rewards = SqlRewards(session, self.database.dialect)
        self.causes = SqlCauses(session, self.database.dialect)
        await session.begin()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        session, self._session = self._session, None
        assert session is not None, "unit of work exited without entering"
        try:
            if exc is None and not self.read_only:
                await session.commit()
            else:
                await session.rollback()
        except IntegrityError as error:
            await session.rollback()
            if is_unique_violation(error):
                raise DuplicateKey(str(error.orig)) from error
            raise
        finally:
            await session.close()
        if isinstance(exc, IntegrityError) and is_unique_violation(exc):
            raise DuplicateKey(str(exc.orig)) from exc
