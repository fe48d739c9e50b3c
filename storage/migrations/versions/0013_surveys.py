"""Satisfaction surveys: who was asked after what, their answers and comments.

Creates survey_sends, survey_answers and survey_comments, and adds members.surveys_opt_in
(true for everyone: a member turns surveys off in /settings).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 00:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the survey tables; add members.surveys_opt_in."""
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column(
                "surveys_opt_in", sa.Boolean(), nullable=False, server_default=sa.text("true")
            )
        )
    op.create_table(
        "survey_sends",
        sa.Column("id", ID, nullable=False),
        sa.Column("survey_id", sa.String(length=24), nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=160), nullable=False),
        sa.Column("store", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("rewarded_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_survey_sends_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_sends")),
        sa.UniqueConstraint(
            "survey_id", "member_id", "reference", name=op.f("uq_survey_sends_trigger")
        ),
    )
    op.create_index("ix_survey_sends_member", "survey_sends", ["member_id", "created_at"])
    op.create_table(
        "survey_answers",
        sa.Column("id", ID, nullable=False),
        sa.Column("send_id", ID, nullable=False),
        sa.Column("question", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["send_id"], ["survey_sends.id"], name=op.f("fk_survey_answers_send_id_survey_sends")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint("send_id", "question", name=op.f("uq_survey_answers_question")),
    )
    op.create_index("ix_survey_answers_time", "survey_answers", ["answered_at"])
    op.create_table(
        "survey_comments",
        sa.Column("send_id", ID, nullable=False),
        sa.Column("question", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["send_id"], ["survey_sends.id"], name=op.f("fk_survey_comments_send_id_survey_sends")
        ),
        sa.PrimaryKeyConstraint("send_id", name=op.f("pk_survey_comments")),
    )
    op.create_index("ix_survey_comments_time", "survey_comments", ["created_at"])


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_index("ix_survey_comments_time", table_name="survey_comments")
    op.drop_table("survey_comments")
    op.drop_index("ix_survey_answers_time", table_name="survey_answers")
    op.drop_table("survey_answers")
    op.drop_index("ix_survey_sends_member", table_name="survey_sends")
    op.drop_table("survey_sends")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("surveys_opt_in")
