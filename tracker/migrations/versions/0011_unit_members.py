"""members of collective units: 各区政府's rows expanded into one row per district

Revision ID: 0011
Revises: 0010

Adds ``unit_members`` and ``assignments.collective_id``.  A database that already holds
rows of 各区政府 gets the register of this release (the 16 districts) and one member row
per district and row; progress stored on the collective row is copied to each member at
version 1, with a history row (field ``collective``) saying where it came from.  The
collective row keeps its own progress and history (it becomes the roll-up).
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLLECTIVE = "各区政府"
DISTRICTS = [
    "浦东新区",
    "黄浦区",
    "静安区",
    "徐汇区",
    "长宁区",
    "普陀区",
    "虹口区",
    "杨浦区",
    "宝山区",
    "闵行区",
    "嘉定区",
    "金山区",
    "松江区",
    "青浦区",
    "奉贤区",
    "崇明区",
]
PROGRESS = [
    "status",
    "percent",
    "due_date",
    "note",
    "next_step",
    "problems",
    "evidence",
    "period",
    "updated_by",
    "updated_at",
]

units = sa.table("units", sa.column("unit"), sa.column("full_name"), sa.column("kind"))
members = sa.table("unit_members", sa.column("collective"), sa.column("member"))
assignments = sa.table(
    "assignments",
    *(
        sa.column(c)
        for c in [
            "assignment_id",
            "task_id",
            "unit",
            "role",
            "unit_rank",
            "archived",
            "assigned_at",
            "collective_id",
        ]
    ),
)
progress = sa.table(
    "progress", sa.column("assignment_id"), sa.column("version"), *(sa.column(c) for c in PROGRESS)
)
history = sa.table(
    "progress_history",
    *(
        sa.column(c)
        for c in [
            "assignment_id",
            "field",
            "old_value",
            "new_value",
            "changed_by",
            "changed_at",
            "source",
            "period",
            "version",
        ]
    ),
)


def upgrade() -> None:
    op.create_table(
        "unit_members",
        sa.Column("collective", sa.String(length=100), nullable=False),
        sa.Column("member", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["collective"], ["units.unit"]),
        sa.ForeignKeyConstraint(["member"], ["units.unit"]),
        sa.PrimaryKeyConstraint("collective", "member"),
    )
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.add_column(sa.Column("collective_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_assignments_collective_id", ["collective_id"])
    _expand(op.get_bind())


def _expand(conn) -> None:
    rows = (
        conn.execute(
            sa.select(assignments, *(progress.c[c] for c in ["version", *PROGRESS]))
            .join(progress, progress.c.assignment_id == assignments.c.assignment_id)
            .where(assignments.c.unit == COLLECTIVE)
        )
        .mappings()
        .all()
    )
    if not rows:
        return
    known = set(conn.scalars(sa.select(units.c.unit)))
    for district in DISTRICTS:
        if district not in known:
            conn.execute(
                units.insert().values(
                    unit=district, full_name=f"上海市{district}人民政府", kind="district"
                )
            )
        conn.execute(members.insert().values(collective=COLLECTIVE, member=district))
    at = datetime.now().replace(microsecond=0)
    for row in rows:
        taken = set(
            conn.scalars(
                sa.select(assignments.c.unit).where(assignments.c.task_id == row["task_id"])
            )
        )
        for district in (d for d in DISTRICTS if d not in taken):
            new_id = conn.execute(
                assignments.insert()
                .values(
                    task_id=row["task_id"],
                    unit=district,
                    role=row["role"],
                    unit_rank=row["unit_rank"],
                    archived=row["archived"],
                    assigned_at=row["assigned_at"],
                    collective_id=row["assignment_id"],
                )
                .returning(assignments.c.assignment_id)
            ).scalar_one()
            copied = row["version"] > 0
            state = (
                {c: row[c] for c in PROGRESS}
                if copied
                else {
                    "status": "not_started",
                    "percent": 0,
                    "due_date": row["due_date"],
                    "note": "",
                    "next_step": "",
                    "problems": "",
                    "evidence": "",
                    "period": "",
                    "updated_by": "",
                    "updated_at": None,
                }
            )
            conn.execute(
                progress.insert().values(assignment_id=new_id, version=1 if copied else 0, **state)
            )
            if copied:
                conn.execute(
                    history.insert().values(
                        assignment_id=new_id,
                        field="collective",
                        old_value=COLLECTIVE,
                        new_value=district,
                        changed_by="系统迁移",
                        changed_at=at,
                        source=f"迁移：复制「{COLLECTIVE}」第{row['assignment_id']}条的进度",
                        period=row["period"] or "",
                        version=1,
                    )
                )


def downgrade() -> None:
    conn = op.get_bind()
    member_ids = sa.select(assignments.c.assignment_id).where(
        assignments.c.collective_id.is_not(None)
    )
    for name in ("progress_history", "progress_snapshots", "supervision_steps", "progress"):
        table = sa.table(name, sa.column("assignment_id"))
        conn.execute(table.delete().where(table.c.assignment_id.in_(member_ids)))
    conn.execute(assignments.delete().where(assignments.c.collective_id.is_not(None)))
    with op.batch_alter_table("assignments") as batch_op:
        batch_op.drop_index("ix_assignments_collective_id")
        batch_op.drop_column("collective_id")
    op.drop_table("unit_members")
