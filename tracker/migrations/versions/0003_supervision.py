"""supervision workflow: steps (report, review, send-back, close, extensions) and reminders

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervision_steps",
        sa.Column("step_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("acted_by", sa.String(length=100), nullable=False),
        sa.Column("acted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignments.assignment_id"]),
        sa.PrimaryKeyConstraint("step_id"),
    )
    op.create_index(
        "ix_supervision_assignment",
        "supervision_steps",
        ["assignment_id", "period", "step_id"],
        unique=False,
    )
    op.create_table(
        "reminders",
        sa.Column("reminder_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit", sa.String(length=100), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_by", sa.String(length=100), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit"], ["units.unit"]),
        sa.PrimaryKeyConstraint("reminder_id"),
    )
    op.create_index("ix_reminders_unit", "reminders", ["unit"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_reminders_unit", table_name="reminders")
    op.drop_table("reminders")
    op.drop_index("ix_supervision_assignment", table_name="supervision_steps")
    op.drop_table("supervision_steps")
