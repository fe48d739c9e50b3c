"""Broadcast gifts (bonus points or a voucher) claimed once per member; status shown.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create broadcast_gifts and broadcast_status."""
    op.create_table(
        "broadcast_gifts",
        sa.Column(
            "broadcast_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_gifts_broadcast_id_broadcasts"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_broadcast_gifts_member_id_members")
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "member_id", name=op.f("pk_broadcast_gifts")),
    )
    op.create_table(
        "broadcast_status",
        sa.Column(
            "broadcast_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("shown", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_status_broadcast_id_broadcasts"),
        ),
        sa.PrimaryKeyConstraint("broadcast_id", name=op.f("pk_broadcast_status")),
    )


def downgrade() -> None:
    """Drop broadcast_status and broadcast_gifts."""
    op.drop_table("broadcast_status")
    op.drop_table("broadcast_gifts")
