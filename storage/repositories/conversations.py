"""Conversation state: one row per person in the middle of a multi-step chat."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.models import ChatState
from storage.tables import ConversationStateRow


class SqlConversations:
    """Implements `domain.ports.ConversationRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, telegram_id: int) -> ChatState | None:
        statement = select(ConversationStateRow).where(
            ConversationStateRow.telegram_id == telegram_id)
        row = (await self.conn.execute(statement)).first()
        return None if row is None else ChatState(row.step, dict(row.data), row.updated_at)

    async def put(self, telegram_id: int, state: ChatState) -> None:
        """Replace the person's state (delete, insert: portable and inside one transaction)."""
        await self.clear(telegram_id)
        await self.conn.execute(insert(ConversationStateRow).values(
            telegram_id=telegram_id, step=state.step, data=state.data,
            updated_at=state.updated_at))

    async def clear(self, telegram_id: int) -> None:
        await self.conn.execute(delete(ConversationStateRow).where(
            ConversationStateRow.telegram_id == telegram_id))
