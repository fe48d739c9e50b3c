"""Merchant API tokens: looked up by the hash of what a client presents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Row, insert, select, update

from domain.models import ApiToken
from storage.aio import AsyncConnection
from storage.tables import ApiTokenRow


def to_token(row: Row[Any]) -> ApiToken:
    """A row as the domain's record."""
    return ApiToken(
        row.id,
        row.name,
        frozenset(filter(None, row.scopes.split(","))),
        row.created_at,
        row.revoked_at,
    )


class SqlApiTokens:
    """Implements `domain.ports.ApiTokenRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self, name: str, token_hash: str, scopes: frozenset[str], at: datetime
    ) -> ApiToken:
        await self.conn.execute(
            insert(ApiTokenRow).values(
                name=name, token_hash=token_hash, scopes=",".join(sorted(scopes)), created_at=at
            )
        )
        token = await self.by_name(name)
        assert token is not None
        return token

    async def by_hash(self, token_hash: str) -> ApiToken | None:
        row = (
            await self.conn.execute(
                select(ApiTokenRow).where(ApiTokenRow.c.token_hash == token_hash)
            )
        ).first()
        return None if row is None else to_token(row)

    async def by_name(self, name: str) -> ApiToken | None:
        row = (
            await self.conn.execute(select(ApiTokenRow).where(ApiTokenRow.c.name == name))
        ).first()
        return None if row is None else to_token(row)

    async def all(self) -> Sequence[ApiToken]:
        rows = (await self.conn.execute(select(ApiTokenRow).order_by(ApiTokenRow.c.id))).all()
        return [to_token(row) for row in rows]

    async def revoke(self, name: str, at: datetime) -> bool:
        """Revoke an active token; False when there is none by that name."""
        result = await self.conn.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.c.name == name, ApiTokenRow.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        assert isinstance(result, CursorResult)
        return result.rowcount == 1
