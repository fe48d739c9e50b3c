"""Purchases held for a phone number no member has shared yet.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create held_purchases, keyed like purchases, found by phone."""
    op.create_table(
        "held_purchases",
        sa.Column("id", ID, nullable=False),
        sa.Column("merchant", sa.String(length=64), nullable=False),
        sa.Column("receipt_id", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("store", sa.String(length=128), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("held_at", sa.DateTime(), nullable=False),
        sa.Column("credited_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_purchases")),
        sa.UniqueConstraint("merchant", "receipt_id", name="uq_held_purchases_receipt"),
    )
    op.create_index("ix_held_purchases_phone", "held_purchases", ["phone"])


def downgrade() -> None:
    """Drop held_purchases."""
    op.drop_index("ix_held_purchases_phone", table_name="held_purchases")
    op.drop_table("held_purchases")
