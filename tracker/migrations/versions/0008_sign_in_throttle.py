"""failed sign-ins counted per name and client address, not on the account

Revision ID: 0008
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttle",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username", "address"),
    )
    # A running lock or count moves over as the name's row from an unknown address ("-"),
    # where ``user list`` shows it; sign-ins from a browser, which has an address, count
    # afresh (a lock lasts 15 minutes at most).
    op.execute(
        "INSERT INTO sign_in_throttle (username, address, failures, locked_until) "
        "SELECT username, '-', failed_sign_ins, locked_until FROM users "
        "WHERE failed_sign_ins > 0 OR locked_until IS NOT NULL"
    )
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("failed_sign_ins")
        batch_op.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
    op.drop_table("sign_in_throttle")
