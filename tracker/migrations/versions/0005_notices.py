"""notices: account contacts, unit robots and the notice outbox

Revision ID: 0005
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_contacts",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("mobile", sa.String(length=30), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["username"], ["users.username"]),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "unit_robots",
        sa.Column("unit", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("secret_ref", sa.String(length=60), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit"], ["units.unit"]),
        sa.PrimaryKeyConstraint("unit", "kind"),
    )
    op.create_table(
        "notices",
        sa.Column("notice_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("receiver", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("notice_id"),
        sa.UniqueConstraint("rule", "subject", "day", "channel", "receiver", name="uq_notice_key"),
    )
    op.create_index("ix_notices_due", "notices", ["status", "next_try_at"], unique=False)
    op.create_index("ix_notices_assignment_id", "notices", ["assignment_id"], unique=False)
    op.create_index("ix_notices_unit", "notices", ["unit"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notices_unit", table_name="notices")
    op.drop_index("ix_notices_assignment_id", table_name="notices")
    op.drop_index("ix_notices_due", table_name="notices")
    op.drop_table("notices")
    op.drop_table("unit_robots")
    op.drop_table("account_contacts")
