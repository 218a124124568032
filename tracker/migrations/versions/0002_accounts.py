"""accounts, unit-scoped roles, and when each assignment was first assigned

Revision ID: 0002
Revises: 0001
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_sign_ins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "user_units",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["unit"], ["units.unit"]),
        sa.ForeignKeyConstraint(["username"], ["users.username"]),
        sa.PrimaryKeyConstraint("username", "unit"),
    )
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.add_column(sa.Column("assigned_at", sa.DateTime(), nullable=True))
    # Rows that existed before this column count as assigned now: the old rule counted
    # from the policy's issue date and lit every never-updated row yellow on a fresh start.
    assignments = sa.table("assignments", sa.column("assigned_at", sa.DateTime()))
    op.execute(assignments.update().values(assigned_at=datetime.now().replace(microsecond=0)))


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.drop_column("assigned_at")
    op.drop_table("user_units")
    op.drop_table("users")
