"""A broadcast's photo is a Telegram file_id or a URL; why the sender stopped a broadcast.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Drop the never-written bytes column; photo_file_id becomes photo, wide enough for a
    URL; add stop_reason."""
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("photo")
        batch.alter_column(
            "photo_file_id",
            new_column_name="photo",
            existing_type=sa.String(length=256),
            type_=sa.String(length=2048),
        )
        batch.add_column(sa.Column("stop_reason", sa.String(length=512), nullable=True))


def downgrade() -> None:
    """Back to a bytes column and a file id column, without stop_reason."""
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("stop_reason")
        batch.alter_column(
            "photo",
            new_column_name="photo_file_id",
            existing_type=sa.String(length=2048),
            type_=sa.String(length=256),
        )
    with op.batch_alter_table("broadcasts") as batch:  # a name freed and taken: two batches
        batch.add_column(sa.Column("photo", sa.LargeBinary(), nullable=True))
