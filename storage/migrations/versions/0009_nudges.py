"""Nudges and surprises: the nudge log, surprise days and grants, members.invite_shown_at.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create nudge_log, surprise_days and surprises; add members.invite_shown_at."""
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("invite_shown_at", sa.DateTime(), nullable=True))
    op.create_table(
        "nudge_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cause_key", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_nudge_log_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudge_log")),
        sa.UniqueConstraint("member_id", "cause_key", name=op.f("uq_nudge_log_cause")),
    )
    op.create_table(
        "surprise_days",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("granted", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("granted >= 0", name=op.f("ck_surprise_days_granted_not_negative")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_surprise_days")),
    )
    op.create_table(
        "surprises",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", ID, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_surprises_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["point_transactions.id"],
            name=op.f("fk_surprises_transaction_id_point_transactions"),
        ),
        sa.PrimaryKeyConstraint("member_id", "day", name=op.f("pk_surprises")),
    )


def downgrade() -> None:
    """Drop surprises, surprise_days and nudge_log; remove members.invite_shown_at."""
    op.drop_table("surprises")
    op.drop_table("surprise_days")
    op.drop_table("nudge_log")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("invite_shown_at")
