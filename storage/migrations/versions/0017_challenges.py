"""Challenges and streaks.

Creates challenge_joins (who tapped "Join" on an opt-in challenge, and when: a rolling
window starts there) and challenge_windows (one row per member, challenge and window once
the member was told of halfway or completion; its unique key rewards a completion once).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create challenge_joins and challenge_windows."""
    op.create_table(
        "challenge_joins",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("challenge_id", sa.String(length=24), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_challenge_joins_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", "challenge_id", name=op.f("pk_challenge_joins")),
    )
    op.create_table(
        "challenge_windows",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("challenge_id", sa.String(length=24), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("halfway_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", ID, nullable=True),
        sa.Column("voucher_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_challenge_windows_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["point_transactions.id"],
            name=op.f("fk_challenge_windows_transaction_id_point_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["vouchers.id"], name=op.f("fk_challenge_windows_voucher_id_vouchers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_windows")),
        sa.UniqueConstraint(
            "member_id", "challenge_id", "window_start", name="uq_challenge_windows"
        ),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("challenge_windows")
    op.drop_table("challenge_joins")
