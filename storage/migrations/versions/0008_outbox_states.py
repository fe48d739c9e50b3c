"""Outbox states, leases and backoff; broadcasts; shared send pacing.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_PENDING = sa.text("sent_at IS NULL AND failed_at IS NULL")
PENDING = sa.text("state = 'pending'")
STATE = (
    "UPDATE outbox SET state = CASE WHEN sent_at IS NOT NULL THEN 'sent' "
    "WHEN failed_at IS NOT NULL THEN 'failed' ELSE 'pending' END"
)
UNSENT = (
    "UPDATE outbox SET failed_at = created_at "
    "WHERE state NOT IN ('pending', 'sent') AND failed_at IS NULL"
)


def upgrade() -> None:
    """Create broadcasts and send_pacing; give the outbox states, leases and a broadcast."""
    op.create_table(
        "broadcasts",
        sa.Column("id", ID, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_file_id", sa.String(length=256), nullable=True),
        sa.Column("button_text", sa.String(length=64), nullable=True),
        sa.Column("button_url", sa.String(length=512), nullable=True),
        sa.Column("bonus_points", sa.BigInteger(), nullable=True),
        sa.Column("reward_id", sa.String(length=64), nullable=True),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("status_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("status_message_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_table(
        "send_pacing",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("free_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_send_pacing")),
    )
    op.drop_index("ix_outbox_pending", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column(
                "state", sa.String(length=16), nullable=False, server_default=sa.text("'pending'")
            )
        )
        batch.add_column(sa.Column("telegram_message_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("broadcast_id", ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_outbox_broadcast_id_broadcasts"), "broadcasts", ["broadcast_id"], ["id"]
        )
    op.execute(STATE)
    op.create_index(
        "ix_outbox_pending", "outbox", ["id"], sqlite_where=PENDING, postgresql_where=PENDING
    )
    op.create_index("ix_outbox_broadcast", "outbox", ["broadcast_id", "state"])


def downgrade() -> None:
    """Drop the broadcast and state columns, send_pacing and broadcasts."""
    op.drop_index("ix_outbox_broadcast", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.execute(UNSENT)
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("fk_outbox_broadcast_id_broadcasts"), type_="foreignkey")
        for column in (
            "broadcast_id",
            "claimed_until",
            "claimed_by",
            "next_attempt_at",
            "telegram_message_id",
            "state",
        ):
            batch.drop_column(column)
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["id"],
        sqlite_where=OLD_PENDING,
        postgresql_where=OLD_PENDING,
    )
    op.drop_table("send_pacing")
    op.drop_table("broadcasts")
