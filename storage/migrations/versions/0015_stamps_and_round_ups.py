"""Stamp cards and round-up donations.

Creates stamp_cards (one row per member and card: the stamps on the current card and how
many cards they filled) and round_ups (the cause a member rounds each purchase up for).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 06:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create stamp_cards and round_ups."""
    op.create_table(
        "stamp_cards",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("card_id", sa.String(length=24), nullable=False),
        sa.Column("stamps", sa.Integer(), nullable=False),
        sa.Column("filled", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("stamps >= 0", name=op.f("ck_stamp_cards_stamps_not_negative")),
        sa.CheckConstraint("filled >= 0", name=op.f("ck_stamp_cards_filled_not_negative")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_stamp_cards_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", "card_id", name=op.f("pk_stamp_cards")),
    )
    op.create_table(
        "round_ups",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("cause_id", sa.String(length=64), nullable=False),
        sa.Column("chosen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_round_ups_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_round_ups")),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("round_ups")
    op.drop_table("stamp_cards")
