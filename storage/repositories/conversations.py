"""Conversation state: one row per person in the middle of a multi-step chat."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select

from domain.models import ChatState, Member
from storage.aio import AsyncConnection
from storage.quick_reads import QuickRead
from storage.repositories.members import MEMBERS, to_member
from storage.tables import ConversationStateRow, MemberRow

STATES = ConversationStateRow.c
STATE_COLUMNS = (STATES.step, STATES.data, STATES.updated_at)
STATE_OF = select(*STATE_COLUMNS).where(STATES.telegram_id == bindparam("telegram_id"))
TAKE = (
    delete(ConversationStateRow)
    .where(STATES.telegram_id == bindparam("telegram_id"), STATES.step == bindparam("step"))
    .returning(*STATE_COLUMNS)
)
MEMBER_AND_STATE = QuickRead(  # read on every update
    select(MemberRow, *STATE_COLUMNS)
    .outerjoin_from(
        MemberRow,
        ConversationStateRow,
        STATES.telegram_id == MEMBERS.telegram_id,
    )
    .where(MEMBERS.telegram_id == bindparam("telegram_id"))
)


def _state(row: Row[*tuple[Any, ...]]) -> ChatState:
    """A state row (or the state columns of a joined row) as the domain's record."""
    return ChatState(row.step, dict(row.data), row.updated_at)


class SqlConversations:
    """Implements `domain.ports.ConversationRepository`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, telegram_id: int) -> ChatState | None:
        row = (await self.conn.execute(STATE_OF, {"telegram_id": telegram_id})).first()
        return None if row is None else _state(row)

    async def member_and_step(self, telegram_id: int) -> tuple[Member | None, ChatState | None]:
        """The member and their step in one join; a non-member's step (staff) in a second read."""
        row = await MEMBER_AND_STATE.first(self.conn, {"telegram_id": telegram_id})
        if row is None:
            return None, await self.get(telegram_id)
        return to_member(row), None if row.step is None else _state(row)

    async def put(self, telegram_id: int, state: ChatState) -> None:
        """Replace the person's state (delete, insert: portable and inside one transaction)."""
        await self.clear(telegram_id)
        await self.conn.execute(
            insert(ConversationStateRow).values(
                telegram_id=telegram_id,
                step=state.step,
                data=state.data,
                updated_at=state.updated_at,
            )
        )

    async def clear(self, telegram_id: int) -> None:
        await self.conn.execute(
            delete(ConversationStateRow).where(ConversationStateRow.c.telegram_id == telegram_id)
        )

    async def take(self, telegram_id: int, step: str) -> ChatState | None:
        """Delete the person's state if it is at `step` and return it, in one statement.

        Of two transactions taking the same state, one gets it and the other None:
        PostgreSQL makes the second DELETE wait for the first and then find no row, and
        SQLite runs write transactions one at a time (DELETE ... RETURNING: SQLite 3.35).
        """
        row = (await self.conn.execute(TAKE, {"telegram_id": telegram_id, "step": step})).first()
        return None if row is None else _state(row)
