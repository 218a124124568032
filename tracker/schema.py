"""The one place that names things: table columns, the status vocabulary, roles,
unit kinds and warning lights.  Everything else imports from here.

Codes are stored; Chinese labels are shown.  ``STATUS_LABELS["done"] == "已完成"``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
SOURCES_DIR = DATA_DIR / "sources"
MEASURES_CSV = DATA_DIR / "measures.csv"
UNITS_CSV = DATA_DIR / "units.csv"
# Members of collective units (各区政府 -> the 16 districts), beside the register.
UNIT_MEMBERS_FILE = "unit_members.csv"
DEFAULT_DB_PATH = DATA_DIR / "tracker.db"

# --- data/measures.csv: one row per task x responsible unit -------------------
MEASURE_COLUMNS: list[str] = [
    "policy_id",
    "policy_title",
    "doc_no",
    "issuer",
    "issue_date",
    "effective_from",
    "effective_to",
    "source_url",
    "section_no",
    "section_title",
    "measure_no",
    "measure_title",
    "task_id",
    "task_seq",
    "task_text",
    "unit",
    "unit_full_name",
    "unit_kind",
    "role",
    "unit_rank",
    "due_hint",  # deadline the policy text states for the task (ISO date), "" when none
]

# --- roles ------------------------------------------------------------------
LEAD = "lead"
SUPPORT = "support"
ROLE_LABELS: dict[str, str] = {LEAD: "牵头", SUPPORT: "配合"}

# --- accounts: what a signed-in user may do ------------------------------------
STAFF = "staff"  # 填报员: edits its own units' rows
SUPERVISOR = "supervisor"  # 督办员: reads all, sets deadlines, imports for any unit
LEADER = "leader"  # 领导: reads all, exports
ADMIN = "admin"  # 管理员: users, rebuild from sources, and everything a supervisor may do
ACCOUNT_ROLE_LABELS: dict[str, str] = {
    STAFF: "填报员",
    SUPERVISOR: "督办员",
    LEADER: "领导",
    ADMIN: "管理员",
}
# Roles that may write progress for any unit and own the deadlines.
SUPERVISING_ROLES: frozenset[str] = frozenset({SUPERVISOR, ADMIN})
# Roles that may export the progress report and read the audit trail of every unit.
READ_ALL_ROLES: frozenset[str] = frozenset({SUPERVISOR, LEADER, ADMIN})
MAX_FAILED_SIGN_INS = 5  # consecutive failures before an account is locked for a while
SIGN_IN_LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10

# --- unit kinds (data/units.csv) -------------------------------------------
UNIT_KIND_LABELS: dict[str, str] = {
    "municipal": "市级部门",
    "central": "中央在沪单位",
    "district": "各区政府",
    "placeholder": "各相关单位",
    "unknown": "未登记单位",
}
PLACEHOLDER_KIND = "placeholder"
# Names that stand for units nobody has named yet: a supervisor names them (待明确 until then).
PLACEHOLDER_UNITS: frozenset[str] = frozenset(
    {
        "各相关单位",
        "各有关单位",
        "相关单位",
        "有关单位",
        "有关部门",
        "相关部门",
        "各有关部门",
        "各相关部门",
        "市有关部门",
        "市相关部门",
    }
)
UNNAMED_LABEL = "待明确"  # what a placeholder row shows until a supervisor names its units

# --- progress status vocabulary ------------------------------------------------
NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
DONE = "done"
DELAYED = "delayed"
ON_HOLD = "on_hold"
STATUS_LABELS: dict[str, str] = {
    NOT_STARTED: "未启动",
    IN_PROGRESS: "推进中",
    DONE: "已完成",
    DELAYED: "滞后",
    ON_HOLD: "暂缓",
}
STATUS_CODES: dict[str, str] = {label: code for code, label in STATUS_LABELS.items()}
STATUSES: list[str] = list(STATUS_LABELS)
# Statuses that must carry a progress note explaining why.
STATUSES_NEEDING_NOTE: frozenset[str] = frozenset({DELAYED, ON_HOLD})
STATUS_COLORS: dict[str, str] = {
    NOT_STARTED: "#BDBDBD",
    IN_PROGRESS: "#4C78A8",
    DONE: "#54A24B",
    DELAYED: "#E45756",
    ON_HOLD: "#F2B701",
}

# --- warning lights (derived, never stored) ----------------------------------
RED, YELLOW, GREEN = "red", "yellow", "green"
LIGHT_LABELS: dict[str, str] = {RED: "红灯", YELLOW: "黄灯", GREEN: "绿灯"}
LIGHT_COLORS: dict[str, str] = {RED: "#D62728", YELLOW: "#F2B701", GREEN: "#2CA02C"}
DUE_SOON_DAYS = 30
STALE_DAYS = 60
# A deadline further out than this from the day it is set is a typing error (2099-12-31):
# no policy here runs longer, and one that did would set its later deadlines in a later year.
MAX_DEADLINE_YEARS = 10

# --- editable progress fields: code name -> Chinese column label ---------------
PROGRESS_FIELDS: dict[str, str] = {
    "status": "状态",
    "percent": "完成比例(%)",
    "due_date": "完成时限",
    "note": "进展情况",
    "next_step": "下一步计划",
    "problems": "存在问题",
    "evidence": "佐证材料",
}
TEXT_FIELDS: tuple[str, ...] = ("note", "next_step", "problems", "evidence")
# The history field of an evidence file attached (new value) or removed (old value).
EVIDENCE_FILE_FIELD = "evidence_file"

# Reporting periods: monthly by default, quarterly configurable (TRACKER_PERIOD=quarter).
PERIOD_KINDS: dict[str, str] = {"month": "月报", "quarter": "季报"}

# Where a change came from, stored in progress_history.source.
SOURCE_WEB = "web"
SOURCE_API = "api"

# --- supervision workflow (督办): per assignment and reporting period ----------------------
# Each step is a row of the append-only ``supervision_steps`` table; its ``action`` is the
# state the assignment enters (or, for extensions, what happened to the request).
NOT_ACKNOWLEDGED = ""  # nothing done yet in any period: the unit has not signed for the task
ACKNOWLEDGED = "acknowledged"
HANDLING = "handling"
SUBMITTED = "submitted"
ACCEPTED = "accepted"
RETURNED = "returned"
CLOSED = "closed"
SUPERVISION_STATE_LABELS: dict[str, str] = {
    NOT_ACKNOWLEDGED: "未签收",
    ACKNOWLEDGED: "已签收",
    HANDLING: "办理中",
    SUBMITTED: "已报送",
    ACCEPTED: "已审核",
    RETURNED: "退回",
    CLOSED: "办结",
}
# The state each state may move to.  A new period starts at 已签收 for a task already
# signed for (and stays 办结 once closed); 退回 goes back to the unit to revise and resend.
SUPERVISION_NEXT: dict[str, frozenset[str]] = {
    NOT_ACKNOWLEDGED: frozenset({ACKNOWLEDGED}),
    ACKNOWLEDGED: frozenset({HANDLING, SUBMITTED}),
    HANDLING: frozenset({SUBMITTED}),
    SUBMITTED: frozenset({ACCEPTED, RETURNED}),
    RETURNED: frozenset({HANDLING, SUBMITTED}),
    ACCEPTED: frozenset({CLOSED}),
    CLOSED: frozenset(),
}
# Steps taken by the reviewer (the lead unit for a support unit's report, a supervisor for a
# lead unit's); the others by the reporting unit itself.
REVIEW_STEPS: frozenset[str] = frozenset({ACCEPTED, RETURNED, CLOSED})
EXTENSION_REQUESTED = "extension_requested"
EXTENSION_APPROVED = "extension_approved"
EXTENSION_REFUSED = "extension_refused"
EXTENSION_LABELS: dict[str, str] = {
    EXTENSION_REQUESTED: "申请延期",
    EXTENSION_APPROVED: "批准延期",
    EXTENSION_REFUSED: "不予延期",
}
SUPERVISION_STEP_LABELS: dict[str, str] = {
    ACKNOWLEDGED: "签收",
    HANDLING: "开始办理",
    SUBMITTED: "报送",
    ACCEPTED: "审核通过",
    RETURNED: "退回",
    CLOSED: "办结销号",
    **EXTENSION_LABELS,
}
REMINDER_DAYS = 15  # 催办: "due soon" means within this many days unless the page says otherwise
# Where a deadline moved by an approved extension came from, in progress_history.source.
SOURCE_EXTENSION = "延期申请"
