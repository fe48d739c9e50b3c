"""Figures kept per period.

Creates kept_figures: what the merchant dashboard shows of a period (key figures and
charts), computed by the scheduler or by a first view and kept under a key naming the
period and the reader's locale, so every process and every restart shows it at once.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 09:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create kept_figures."""
    op.create_table(
        "kept_figures",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kept_figures")),
    )
    op.create_index(op.f("ix_kept_figures_computed_at"), "kept_figures", ["computed_at"])


def downgrade() -> None:
    """Drop kept_figures."""
    op.drop_index(op.f("ix_kept_figures_computed_at"), table_name="kept_figures")
    op.drop_table("kept_figures")
