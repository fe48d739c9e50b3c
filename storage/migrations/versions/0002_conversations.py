"""Conversation state per person, and a reminders opt-in beside the offers opt-in.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the conversation_states table and members.reminders_opt_in (true for everyone)."""
    op.create_table(
        "conversation_states",
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("telegram_id", name=op.f("pk_conversation_states")),
    )
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column(
                "reminders_opt_in", sa.Boolean(), nullable=False, server_default=sa.text("true")
            )
        )


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("members") as batch:
        batch.drop_column("reminders_opt_in")
    op.drop_table("conversation_states")
