"""Forgotten members by a keyed hash; receipts' points dated by when the purchase happened.

Creates installation_keys (the random key, made on first use) and forgotten_members (a
keyed hash of each forgotten Telegram id). A member's history is ordered by date, so the
index on point_transactions gains created_at, and the points of receipts recorded before
this revision are dated by their purchase (their expiry is left as it was given).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# a receipt's points (its lot and the lot's transaction) dated by when it happened
TRANSACTION_PURCHASE = (
    "SELECT purchases.occurred_at FROM purchases JOIN point_lots ON point_lots.id = "
    "purchases.lot_id WHERE point_lots.transaction_id = point_transactions.id "
    "AND purchases.occurred_at <> point_transactions.created_at"
)
LOT_PURCHASE = (
    "SELECT purchases.occurred_at FROM purchases WHERE purchases.lot_id = point_lots.id "
    "AND purchases.occurred_at <> point_lots.earned_at"
)


def upgrade() -> None:
    """Create installation_keys and forgotten_members; order history by date; date the
    points of earlier receipts by their purchase."""
    op.create_table(
        "installation_keys",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_installation_keys")),
    )
    op.create_table(
        "forgotten_members",
        sa.Column("telegram_hash", sa.String(length=64), nullable=False),
        sa.Column("forgotten_at", sa.DateTime(), nullable=False),
        sa.Column("referrals_rewarded", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("telegram_hash", name=op.f("pk_forgotten_members")),
    )
    op.drop_index("ix_point_transactions_member", table_name="point_transactions")
    op.create_index(
        "ix_point_transactions_member_time", "point_transactions", ["member_id", "created_at", "id"]
    )
    op.execute(
        f"UPDATE point_transactions SET created_at = ({TRANSACTION_PURCHASE}) "
        f"WHERE EXISTS ({TRANSACTION_PURCHASE})"
    )
    op.execute(f"UPDATE point_lots SET earned_at = ({LOT_PURCHASE}) WHERE EXISTS ({LOT_PURCHASE})")


def downgrade() -> None:
    """Drop forgotten_members and installation_keys; order history by id again (the dates
    of earlier receipts' points stay those of their purchase)."""
    op.drop_index("ix_point_transactions_member_time", table_name="point_transactions")
    op.create_index("ix_point_transactions_member", "point_transactions", ["member_id", "id"])
    op.drop_table("forgotten_members")
    op.drop_table("installation_keys")
