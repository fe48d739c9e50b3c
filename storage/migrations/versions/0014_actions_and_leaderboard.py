"""Actions that earn, birthdays and leaderboard names.

Creates action_claims (one row per member and action, per year for the birthday: the key
pays each once), birthdays (day and month, set once a year) and leaderboard_names (members
who chose to appear by name on /top), and indexes point_transactions by kind and time (/top
sums one month of purchase points: a range of the index, not the whole ledger).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create action_claims, birthdays and leaderboard_names; index the ledger by kind."""
    op.create_index("ix_point_transactions_kind_time", "point_transactions", ["kind", "created_at"])
    op.create_table(
        "action_claims",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("action_id", sa.String(length=24), nullable=False),
        sa.Column("period", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", ID, nullable=True),
        sa.Column("voucher_id", ID, nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'rejected')", name=op.f("ck_action_claims_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_action_claims_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["point_transactions.id"],
            name=op.f("fk_action_claims_transaction_id_point_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["vouchers.id"], name=op.f("fk_action_claims_voucher_id_vouchers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_claims")),
        sa.UniqueConstraint("member_id", "action_id", "period", name=op.f("uq_action_claims_once")),
    )
    op.create_index("ix_action_claims_pending", "action_claims", ["status", "claimed_at"])
    op.create_table(
        "birthdays",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name=op.f("ck_birthdays_month_in_range")),
        sa.CheckConstraint("day BETWEEN 1 AND 31", name=op.f("ck_birthdays_day_in_range")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_birthdays_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_birthdays")),
    )
    op.create_index("ix_birthdays_day", "birthdays", ["month", "day"])
    op.create_table(
        "leaderboard_names",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("chosen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_leaderboard_names_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_leaderboard_names")),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("leaderboard_names")
    op.drop_index("ix_birthdays_day", table_name="birthdays")
    op.drop_table("birthdays")
    op.drop_index("ix_action_claims_pending", table_name="action_claims")
    op.drop_table("action_claims")
    op.drop_index("ix_point_transactions_kind_time", table_name="point_transactions")
