"""政策任务督办台: the frame only (page config, sign-in gate, navigation, shared filters)."""

from pathlib import Path

import streamlit as st

from pagelogic import views
from tracker.errors import TrackerError
from webui import auth, data, drafts, filters, safe

FAVICON = str(Path(__file__).resolve().parent / "webui" / "favicon.png")

# The icon is a file of ours: a ":material/…:" page icon made every browser fetch it from
# fonts.gstatic.com, a request leaving the agency's network on every page.
st.set_page_config(page_title="政策任务督办台", page_icon=FAVICON, layout="wide")

# Navigation section -> (script, title, icon, url path, who may open it); the first page is
# the default.  "writes" / "supervises" / "administers" name the tracker.accounts.Account
# property required.
PAGES = {
    "看板": [
        ("pages/overview.py", "总览", ":material/dashboard:", "", None),
        ("pages/by_unit.py", "按责任单位", ":material/apartment:", "by_unit", None),
        ("pages/by_policy.py", "按政策", ":material/description:", "by_policy", None),
        ("pages/obligations.py", "跨政策职责", ":material/hub:", "obligations", None),
        ("pages/coverage.py", "覆盖矩阵", ":material/grid_view:", "coverage", None),
        ("pages/tasks.py", "任务清单", ":material/list:", "tasks", None),
    ],
    "填报与督办": [
        ("pages/update.py", "进度填报", ":material/edit:", "update", "writes"),
        ("pages/reporting.py", "报送", ":material/outbox:", "reporting", "writes"),
        ("pages/review.py", "审核", ":material/fact_check:", "review", "writes"),
        ("pages/deadlines.py", "完成时限", ":material/event:", "deadlines", "supervises"),
        (
            "pages/reminders.py",
            "催办",
            ":material/notifications_active:",
            "reminders",
            "supervises",
        ),
        ("pages/rankings.py", "通报", ":material/leaderboard:", "rankings", None),
        ("pages/notices.py", "通知记录", ":material/mail:", "notices", None),
    ],
    "数据": [
        ("pages/excel.py", "导入导出", ":material/swap_vert:", "excel", None),
        ("pages/audit.py", "审计", ":material/history:", "audit", None),
        ("pages/policies.py", "政策库", ":material/library_books:", "policies", "supervises"),
        ("pages/accounts.py", "账号管理", ":material/manage_accounts:", "accounts", "administers"),
    ],
}

try:
    account = auth.require([page[3] for pages in PAGES.values() for page in pages])
    page = st.navigation(
        {
            section: [
                st.Page(script, title=title, icon=icon, url_path=path or None, default=not path)
                for script, title, icon, path, right in pages
                if right is None or getattr(account, right)
            ]
            for section, pages in PAGES.items()
        },
        expanded=True,  # every page listed; collapsed, the sidebar says "View 5 more" in English
    )
    st.sidebar.caption("政策任务督办台")
    filters.sidebar(data.view(views.filter_options, filtered=False))
    if page.url_path != "update":
        drafts.notice()  # unsaved 进度填报 edits are kept; say so elsewhere
    page.run()
except TrackerError as exc:  # e.g. the database is unreachable or read-only, a bad setting
    safe.error(exc)
