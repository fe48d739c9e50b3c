"""Promotion announcements.

Creates promotion_announcements: one row per promotion (id and start) whose start was told
to its members, written in the transaction that queues the messages, so a promotion is
announced once however many scheduler runs or processes see it start.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create promotion_announcements."""
    op.create_table(
        "promotion_announcements",
        sa.Column("promotion_id", sa.String(length=24), nullable=False),
        sa.Column("starts", sa.String(length=16), nullable=False),
        sa.Column("announced_at", sa.DateTime(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("promotion_id", "starts", name=op.f("pk_promotion_announcements")),
    )


def downgrade() -> None:
    """Drop promotion_announcements."""
    op.drop_table("promotion_announcements")
