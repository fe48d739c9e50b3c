"""The audit log, oldest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select

from domain.models import AuditEntry
from storage.aio import AsyncConnection
from storage.tables import AuditRow


class SqlAudit:
    """Implements `domain.ports.AuditRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, at: datetime, actor: str, action: str, details: dict[str, object]) -> None:
        await self.conn.execute(
            insert(AuditRow).values(at=at, actor=actor, action=action, details=details)
        )

    async def latest(self, limit: int) -> Sequence[AuditEntry]:
        """The newest `limit` entries, newest first."""
        statement = select(AuditRow).order_by(AuditRow.c.id.desc()).limit(limit)
        rows = (await self.conn.execute(statement)).all()
        return [AuditEntry(r.id, r.at, r.actor, r.action, dict(r.details)) for r in rows]

    async def since(self, at: datetime | None, limit: int) -> Sequence[AuditEntry]:
        statement = select(AuditRow).order_by(AuditRow.c.id).limit(limit)
        if at is not None:
            statement = statement.where(AuditRow.c.at >= at)
        rows = (await self.conn.execute(statement)).all()
        return [AuditEntry(r.id, r.at, r.actor, r.action, dict(r.details)) for r in rows]
