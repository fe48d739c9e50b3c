"""Reading the audit log of merchant actions."""

from __future__ import annotations

from datetime import datetime

from domain.models import AuditEntry
from domain.ports import UnitOfWork


async def audit_log(
    uow: UnitOfWork, since: datetime | None = None, limit: int = 10_000
) -> list[AuditEntry]:
    """Merchant actions since `since` (all when None), oldest first."""
    async with uow:
        return list(await uow.audit.since(since, limit))


async def latest_actions(uow: UnitOfWork, limit: int) -> list[AuditEntry]:
    """The newest `limit` merchant actions, newest first (the dashboard's page)."""
    async with uow:
        return list(await uow.audit.latest(limit))


async def record_action(
    uow: UnitOfWork, now: datetime, actor: str, action: str, details: dict[str, object]
) -> None:
    """Log a merchant action that is not itself one transaction (a CSV import run)."""
    async with uow:
        await uow.audit.add(now, actor, action, details)
