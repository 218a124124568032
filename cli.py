"""Command line: ``python -m loaders <subcommand>``.

One small function per subcommand (``cmd_<name>``) registered in :func:`build_parser`, so more
subcommands can be added side by side.  Exit codes: 0 ok, 1 ``--check`` found a difference
or an import was partly refused, 2 bad input or not allowed (the message goes to stderr and
nothing is written), 3 the database cannot be used (read-only, full, locked, unreachable).

Commands that read or write progress act as a named account (``--user``): it must exist
and be active, and the store checks its rights exactly as for a signed-in web user.
"""

from __future__ import annotations

import argparse
import difflib
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from loaders.measures_csv import build_measures, to_csv_bytes
from loaders.policy_files import Draft, read_sources, write_atomic
from loaders.units import read_units, write_units
from tracker.errors import PermissionDenied, StoreUnavailable, TrackerError
from tracker.schema import MEASURES_CSV, SOURCES_DIR, UNITS_CSV

EXIT_OK, EXIT_DIFFERS, EXIT_BAD_INPUT, EXIT_UNAVAILABLE = 0, 1, 2, 3


def _diff_summary(old: bytes, new: bytes, limit: int = 20) -> str:
    old_lines = old.decode("utf-8-sig", errors="replace").splitlines()
    new_lines = new.decode("utf-8-sig", errors="replace").splitlines()
    diff = list(
        difflib.unified_diff(old_lines, new_lines, "committed", "from sources", lineterm="", n=0)
    )
    shown = diff[:limit]
    if len(diff) > limit:
        shown.append(f"... ({len(diff) - limit} more diff lines)")
    return "\n".join(shown)


def cmd_build(args: argparse.Namespace) -> int:
    """Parse the sources and write (or, with --check, compare) the measures CSV."""
    out = Path(args.out)
    registry = read_units(Path(args.units).read_bytes(), name=str(args.units))
    result = build_measures(read_sources(Path(args.sources)), registry)
    data = to_csv_bytes(result.frame)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    summary = " ".join(f"{k}={v}" for k, v in result.summary().items())
    if args.check:
        current = out.read_bytes() if out.exists() else None
        if current == data:
            print(f"{out} is up to date: {summary}")
            return EXIT_OK
        if current is None:
            print(f"{out} is missing; run `python -m loaders build`", file=sys.stderr)
        else:
            print(
                f"{out} differs from what {args.sources} gives; run `python -m loaders build`",
                file=sys.stderr,
            )
            print(_diff_summary(current, data), file=sys.stderr)
        return EXIT_DIFFERS
    write_atomic(out, data)
    print(f"wrote {out}: {summary}")
    return EXIT_OK


# --- Excel: progress report, fill-in template, import -------------------------


def _open_as(args: argparse.Namespace):
    """The store, and the account named by ``--user`` (unknown or disabled: refused)."""
    from loaders.store_sync import open_store

    store = open_store(args.db)
    return store, store.accounts.account(args.user)


def cmd_export(args: argparse.Namespace) -> int:
    """Write the formatted progress report (汇总 / 按政策 / 明细)."""
    from excel.report import build_report
    from tracker.aggregate import derive
    from tracker.evidence import Evidence
    from tracker.filters import Filters, policy_names
    from tracker.progress import now
    from tracker.supervision import Supervision

    store, account = _open_as(args)
    if not account.reads_all:
        raise PermissionDenied(
            f"账号 {account.username} 无导出报表的权限（需领导、督办员或管理员）"
        )
    filters = Filters(policy=tuple(args.policy or ()), unit=tuple(args.unit or ()))
    today = now().date()
    rows = derive(store.assignments(), today)  # lead units and lights, as the pages have them
    rankings = Supervision(store).rankings(rows, today)
    evidence = Evidence(store).summary(user=account)
    report = build_report(rows, filters=filters, today=today, rankings=rankings, evidence=evidence)
    write_atomic(Path(args.out), report)
    print(f"wrote {args.out}: {filters.describe(policy_names(rows))}")
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    """Write one unit's fill-in template."""
    from excel.template import build_template

    store, account = _open_as(args)
    if not account.may_edit_unit(args.unit) and not account.reads_all:
        raise PermissionDenied(f"账号 {account.username} 不负责「{args.unit}」")
    write_atomic(Path(args.out), build_template(store.assignments(), args.unit))
    print(f"wrote {args.out}: 填报模板（{args.unit}）")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """Import a filled template or 明细 sheet: 0 all accepted, 1 some refused, 2 nothing written."""
    from excel.read import error_report, import_workbook

    store, account = _open_as(args)
    path = Path(args.file)
    with path.open("rb") as handle:
        result = import_workbook(
            store,
            handle,
            file_name=path.name,
            user=account,
            dry_run=args.dry_run,
            all_or_nothing=args.all_or_nothing,
        )
    for diff in result.diffs.itertuples(index=False):
        print(
            f"row {diff.row}  {diff.task_id}  {diff.unit}  {diff.field}: {diff.old!r} -> {diff.new!r}"
        )
    for item in [*result.problems, *result.conflicts]:
        print(f"refused: {item}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.error_report and (result.problems or result.conflicts):
        write_atomic(Path(args.error_report), error_report(result))
        print(f"wrote {args.error_report}: 错误报告", file=sys.stderr)
    print(result.summary())
    if result.ok:
        return EXIT_OK
    return (
        EXIT_DIFFERS
        if (result.written or result.dry_run) and not args.all_or_nothing
        else EXIT_BAD_INPUT
    )


def print_plan(plan) -> None:
    """A revision plan, one line per task that changes: what, old id -> new id, text."""
    for change in plan.changes:
        text = change.new_text or change.old_text
        shown = text if len(text) <= 40 else text[:39] + "…"
        reported = f"  (已填报 {change.reported} 条)" if change.reported else ""
        print(
            f"{change.label}\t{change.old_task_id or '-'} -> {change.new_task_id or '-'}"
            f"\t{shown}{reported}"
        )
    print(plan.summary())


def print_report(report) -> None:
    print(
        f"synced: {report.added_tasks} new tasks, {report.added_assignments} new assignments, "
        f"{report.archived_tasks} tasks and {report.archived_assignments} assignments archived, "
        f"{report.moved_tasks} moved, {report.changed_tasks} changed, {report.restored} restored"
    )


def cmd_sync(args: argparse.Namespace) -> int:
    """Bring the store in line with the measures CSV now (the app also does it on start).

    A revision that moves, rewords or archives stored tasks is shown and applied only with
    ``--yes`` as a supervising ``--user``; without it nothing is written (exit 1)."""
    from loaders.store_sync import apply_pending, pending_revision
    from tracker.store import Store, SyncReport, make_engine

    store = Store(make_engine(args.db))
    store.create_schema()
    pending = pending_revision(store, args.measures)
    if pending is None:
        print_report(SyncReport())
        return EXIT_OK
    user = None
    if pending.plan.needs_confirmation:
        print_plan(pending.plan)
        if not args.yes:
            print(
                "nothing written: this revision moves, rewords or archives stored tasks; "
                "check the changes above, then run again with --yes --user NAME",
                file=sys.stderr,
            )
            return EXIT_DIFFERS
        if not args.user:
            raise PermissionDenied("确认修订需要 --user（督办员或管理员账号）")
        user = store.accounts.account(args.user)
    print_report(apply_pending(store, pending, user=user).report)
    return EXIT_OK


def _print_draft(draft: Draft) -> None:
    """What a drafted policy adds: its tasks, the confidence report, every warning (on
    stderr) and each unit the register does not know."""
    from loaders.policy_report import confidence_report

    print(f"{draft.source_name}: {draft.summary()}")
    for task in draft.tasks_table().to_dict("records"):
        support = f"；配合：{task['配合单位']}" if task["配合单位"] else ""
        due = f"；时限：{task['完成时限']}" if task["完成时限"] else ""
        print(
            f"{task['任务编号']}\t牵头：{task['牵头单位']}{support}{due}\t{task['任务内容'][:40]}"
        )
    for line in confidence_report(draft.policy, draft.frame).lines():
        print(f"confidence: {line}")
    for warning in draft.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for unknown in draft.unknown_units:
        closest = "、".join(unknown.suggestions) or "无"
        print(
            f"unknown unit: {unknown.name} ({unknown.tasks} tasks); closest: {closest}; "
            f"map it with --unit-alias {unknown.name}=UNIT",
            file=sys.stderr,
        )


def cmd_add(args: argparse.Namespace) -> int:
    """Add a policy from a PDF, DOCX or text file: show what it adds (tasks, units, every
    warning, the plan); publish it with ``--yes``.  Exit 0 shown or published, 2 refused."""
    from loaders import policy_files
    from loaders.store_sync import measures_path

    store, account = _open_as(args)
    if not account.supervises:
        raise PermissionDenied(f"账号 {account.username} 无权发布政策（需督办员或管理员）")
    path = Path(args.file)
    units_file = Path(args.units) if args.units else policy_files.units_csv()
    if args.units:
        registry = read_units(units_file.read_bytes(), name=str(units_file))
    else:
        registry = policy_files.current_registry(store)
    draft = policy_files.draft_policy(
        path.read_bytes(), path.name, registry, policy_id=args.policy_id
    )
    mapping = dict(_alias(a) for a in args.unit_alias or ())
    draft = policy_files.map_units(draft, mapping)
    _print_draft(draft)
    folder = Path(args.sources) if args.sources else policy_files.sources_dir()
    publication = policy_files.prepare(draft, store, folder=folder)
    if publication.replaced:
        print(f"replaces: {'、'.join(publication.replaced)}")
    print_plan(publication.plan)
    for cut in draft.incomplete:
        print(f"incomplete: {path.name}, line {cut.line}: publish with --accept-incomplete")
    if not args.yes:
        print("nothing written: check the above, then run again with --yes to publish")
        return EXIT_OK
    out = measures_path(args.out)
    report = policy_files.publish(
        publication,
        store,
        account,
        folder=folder,
        measures_csv=out,
        units_file=units_file,
        accept_incomplete=args.accept_incomplete,
    )
    print(f"wrote {folder / draft.source_name} and {out}")
    print_report(report)
    return EXIT_OK


def cmd_sources(args: argparse.Namespace) -> int:
    """The policy texts in the database: ``export DIR`` writes them (with the originals and,
    if asked, the register and measures.csv); ``check`` lists where the files disagree."""
    from loaders import policy_files
    from loaders.store_sync import file_digest, measures_path, open_store
    from tracker import sources

    store = open_store(args.db)
    if args.action == "check":
        folder = Path(args.dir) if args.dir else policy_files.sources_dir()
        files = read_sources(folder) if folder.is_dir() else []
        measures = measures_path(args.measures)
        digest = file_digest(measures.read_bytes()) if measures.is_file() else None
        problems = sources.disagreements(store, files, digest)
        for problem in problems:
            print(problem)
        print(f"{len(problems)} differences between the files and the database")
        return EXIT_DIFFERS if problems else EXIT_OK
    if not args.dir:
        raise TrackerError("sources export 需要目标目录")
    texts = sources.stored_texts(store)
    if not texts:
        raise TrackerError("数据库中还没有政策原文（首次启动会从 data/sources 复制）")
    folder = Path(args.dir)
    for name, content in texts:
        write_atomic(folder / name, content)
    for name, content in sources.stored_originals(store):
        write_atomic(folder / policy_files.ORIGINALS / name, content)
    if args.units:
        write_atomic(Path(args.units), write_units(policy_files.current_registry(store)))
    if args.measures:
        registry = policy_files.current_registry(store)
        write_atomic(Path(args.measures), to_csv_bytes(build_measures(texts, registry).frame))
    print(f"wrote {len(texts)} policy texts to {folder}")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    """Back the whole database up to FILE (SQLite backup API, pg_dump, or a portable dump)."""
    from tracker.backup import backup
    from tracker.events import log_event
    from tracker.store import database_url

    used = backup(database_url(args.db), Path(args.file), portable=args.portable)
    log_event("backup", None, file=args.file, format=used)
    print(f"wrote {args.file} ({used})")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore FILE into an empty database (refused when it holds tasks or accounts)."""
    from tracker.backup import restore
    from tracker.events import log_event
    from tracker.store import database_url

    used = restore(database_url(args.db), Path(args.file))
    log_event("restore", None, file=args.file, format=used)
    print(f"restored {args.file} ({used})")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Fill a separate, empty database with the seeds and believable demo work."""
    from loaders.demo import fill_demo

    accounts = fill_demo(args.db)
    print(f"demo database ready: {args.db}")
    print(f"start it:  DATABASE_URL={args.db} streamlit run dashboard.py")
    print(f"sign in as {accounts.supervisor} (督办员) or {accounts.staff} (填报员, 市科委)")
    print(f"password (shown once): {accounts.password}")
    return EXIT_OK


def _alias(text: str) -> tuple[str, str]:
    name, sep, unit = text.partition("=")
    if not sep or not name.strip() or not unit.strip():
        raise TrackerError(f"--unit-alias 应写成 原名=登记单位，而不是「{text}」")
    return name.strip(), unit.strip()


def _read_password(args: argparse.Namespace) -> str:
    """From stdin with ``--password-stdin`` (scripts), else asked twice without echo."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码：")
    if getpass.getpass("再次输入密码：") != first:
        raise TrackerError("两次输入的密码不一致")
    return first


def cmd_user(args: argparse.Namespace) -> int:
    """Accounts: add, list, disable, enable, reset a password, set a staff member's units,
    lift a sign-in lock, issue a one-time code with which the user sets a password."""
    from loaders import policy_files
    from loaders.store_sync import open_store
    from tracker.schema import ACCOUNT_ROLE_LABELS

    accounts = open_store(args.db).accounts
    if args.unit:  # a registered alias or full name (市发改委) names its short name
        registry = read_units(policy_files.units_csv().read_bytes())
        args.unit = [registry.resolve(unit.strip()).unit for unit in args.unit]
    if args.action == "list":
        for account in accounts.table().to_dict("records"):
            state = "active" if account["active"] else "disabled"
            if pd.notna(account["locked_until"]):  # NaT for an account that is not locked
                state += f", locked until {account['locked_until']:%Y-%m-%d %H:%M}"
            role = ACCOUNT_ROLE_LABELS.get(account["role"], account["role"])
            print(
                f"{account['username']}\t{account['role']}({role})\t{account['units'] or '-'}"
                f"\t{state}"
            )
        return EXIT_OK
    if not args.name:
        raise TrackerError(f"user {args.action} 需要用户名")
    if args.action == "add":
        if not args.role:
            raise TrackerError("user add 需要 --role（staff、supervisor、leader 或 admin）")
        password = None if args.sso else _read_password(args)
        accounts.add(
            args.name,
            role=args.role,
            units=args.unit or (),
            password=password,
            display_name=args.display_name or "",
        )
        print(f"added {args.name} ({args.role})")
    elif args.action == "reset":
        accounts.reset_password(args.name, _read_password(args))
        print(f"password reset for {args.name}")
    elif args.action in ("disable", "enable"):
        accounts.set_active(args.name, args.action == "enable")
        print(f"{args.action}d {args.name}")
    elif args.action == "units":
        accounts.set_units(args.name, args.unit or ())
        print(f"units of {args.name}: {'、'.join(args.unit or ()) or '-'}")
    elif args.action == "unlock":
        accounts.unlock(args.name)
        print(f"unlocked {args.name}")
    elif args.action == "code":  # shown once; the user sets a password with it on sign-in
        print(f"one-time code for {args.name} (shown once): {accounts.issue_code(args.name)}")
    return EXIT_OK


# --- notices: contacts and sending ------------------------------------------------------


def _plain_store(db: str | None):
    """The store without a sync from measures.csv: notices and contacts only read tasks."""
    from tracker.store import Store, database_url, make_engine

    store = Store(make_engine(database_url(db)))
    store.create_schema()
    return store


def cmd_contact(args: argparse.Namespace) -> int:
    """Contacts (admin): an account's e-mail/mobile, a unit's robots; list shows whether a
    robot's secret is configured, never the secret."""
    from tracker.contacts import Contacts
    from tracker.senders import ROBOT_KINDS

    store = _plain_store(args.db)
    admin = store.accounts.account(args.user)
    contacts = Contacts(store)
    if args.action != "list" and not args.name:
        raise TrackerError(f"contact {args.action} 需要账号或单位")
    if args.action == "list":
        for row in contacts.accounts_table().to_dict("records"):
            print(
                f"{row['username']}\t{row['units'] or '-'}\t{row['email'] or '-'}\t{row['mobile'] or '-'}"
            )
        for row in contacts.robots_table().to_dict("records"):
            state = "configured" if row["configured"] else "secret missing"
            signed = ", signed" if row["signed"] else ""
            print(
                f"{row['unit']}\t{ROBOT_KINDS[row['kind']]}\t{row['secret_ref']}\t{state}{signed}"
            )
        return EXIT_OK
    if args.action == "email":
        contacts.set_email(args.name, args.email or "", args.mobile or "", user=admin)
        print(f"contact of {args.name}: {args.email or '-'} {args.mobile or ''}".rstrip())
    elif args.action == "robot":
        if not args.kind or not args.ref:
            raise TrackerError("contact robot 需要 --kind 和 --ref")
        contacts.set_robot(args.name, args.kind, args.ref, user=admin)
        print(f"robot of {args.name}: {args.kind} ({args.ref})")
    elif args.action == "unrobot":
        removed = contacts.remove_robot(args.name, args.kind or "", user=admin)
        print(f"robot of {args.name} removed" if removed else f"{args.name} has no such robot")
    return EXIT_OK


def cmd_notify(args: argparse.Namespace) -> int:
    """Scan for due notices and send what is due: 0 all sent, 1 some failed (retried later)."""
    from datetime import date

    from tracker import outbox

    store = _plain_store(args.db)
    today = date.fromisoformat(args.today) if args.today else None
    result = outbox.run(store, today, scan_first=not args.no_scan)
    for error in result.errors:
        print(f"failed: {error}", file=sys.stderr)
    print(result.summary())
    return EXIT_DIFFERS if result.errors else EXIT_OK


def _add_notice_commands(sub) -> None:
    contact = sub.add_parser("contact", help="contacts: e-mail of an account, robots of a unit")
    contact.add_argument("action", choices=["list", "email", "robot", "unrobot"])
    contact.add_argument("name", nargs="?", help="username (email) or unit (robot)")
    contact.add_argument("--email", help="e-mail address (empty clears it)")
    contact.add_argument("--mobile", help="mobile number (kept for SMS)")
    contact.add_argument("--kind", choices=["wecom", "dingtalk", "feishu"], help="robot kind")
    contact.add_argument(
        "--ref", help="secret name: TRACKER_ROBOT_<REF>_URL / [robots.<ref>] in secrets.toml"
    )
    contact.add_argument("--user", required=True, help="admin account making the change")
    contact.add_argument("--db", help="database URL (default: DATABASE_URL or data/tracker.db)")
    contact.set_defaults(func=cmd_contact)
    notify = sub.add_parser("notify", help="send due notices (run from cron or a systemd timer)")
    notify.add_argument("--today", help="scan as of this day (YYYY-MM-DD; default today)")
    notify.add_argument("--no-scan", action="store_true", help="only send what is queued")
    notify.add_argument("--db", help="database URL (default: DATABASE_URL or data/tracker.db)")
    notify.set_defaults(func=cmd_notify)


def _add_user_command(sub) -> None:
    user = sub.add_parser(
        "user", help="accounts: add, list, disable, enable, reset, units, unlock, code"
    )
    user.add_argument(
        "action",
        choices=["add", "list", "disable", "enable", "reset", "units", "unlock", "code"],
    )
    user.add_argument("name", nargs="?", help="username")
    user.add_argument("--role", choices=["staff", "supervisor", "leader", "admin"])
    user.add_argument("--unit", action="append", help="unit a staff account reports for")
    user.add_argument("--display-name", help="name shown on pages")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.add_argument(
        "--sso", action="store_true", help="no password: signs in through OIDC (st.login) only"
    )
    user.add_argument("--db", help="database URL (default: DATABASE_URL or data/tracker.db)")
    user.set_defaults(func=cmd_user)


def _add_excel_commands(sub) -> None:
    export = sub.add_parser("export", help="write the progress report workbook (进度报表)")
    export.add_argument("--out", required=True, help="report .xlsx to write")
    export.add_argument("--policy", action="append", help="policy id (repeatable)")
    export.add_argument("--unit", action="append", help="responsible unit (repeatable)")
    export.add_argument("--user", required=True, help="account exporting (领导/督办员/管理员)")
    export.add_argument("--db", help="database URL (default: DATABASE_URL or data/tracker.db)")
    export.set_defaults(func=cmd_export)

    template = sub.add_parser("template", help="write a unit's fill-in template (填报模板)")
    template.add_argument("--unit", required=True, help="responsible unit")
    template.add_argument("--out", required=True, help="template .xlsx to write")
    template.add_argument("--user", required=True, help="account asking for the template")
    template.add_argument("--db", help="database URL (default: DATABASE_URL or data/tracker.db)")
    template.set_defaults(func=cmd_template)

    imp = sub.add_parser("import", help="import a filled template or a report's 明细 sheet")
    imp.add_argument("file", help=".xlsx to import")
    imp.add_argument(
        "--user", required=True, help="account reporting (must exist; recorded in the history)"
    )
    imp.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    imp.add_argument(
        "--all-or-nothing", action="store_true", help="write nothing if any row is refused"
    )
    imp.add_argument("--error-report", help="write refused rows and reasons to this .xlsx")
    imp.add_argument("--db", help="database URL (default: DATABASE_URL or data/tracker.db)")
    imp.set_defaults(func=cmd_import)


def _add_operations_commands(sub) -> None:
    src = sub.add_parser("sources", help="policy texts in the database: export DIR, check")
    src.add_argument("action", choices=["export", "check"])
    src.add_argument("dir", nargs="?", help="folder to export to / compare (default: data/sources)")
    src.add_argument("--measures", help="also write (export) or compare (check) this measures CSV")
    src.add_argument("--units", help="export: also write the unit register here")
    src.add_argument("--db", help="database URL (default: DATABASE_URL or data/tracker.db)")
    src.set_defaults(func=cmd_sources)
    back = sub.add_parser("backup", help="back the database up to FILE")
    back.add_argument("file")
    back.add_argument("--portable", action="store_true", help="portable dump, not sqlite/pg_dump")
    back.add_argument("--db", help="database URL (default: DATABASE_URL or data/tracker.db)")
    back.set_defaults(func=cmd_backup)
    rest = sub.add_parser("restore", help="restore FILE into an empty database")
    rest.add_argument("file")
    rest.add_argument("--db", help="database URL (default: DATABASE_URL or data/tracker.db)")
    rest.set_defaults(func=cmd_restore)
    demo = sub.add_parser("demo", help="fill a separate, empty database with demo work")
    demo.add_argument("--db", default="sqlite:///data/demo.db", help="empty database to fill")
    demo.set_defaults(func=cmd_demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m loaders", description="政策任务督办台 data tools"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="parse data/sources into data/measures.csv")
    build.add_argument(
        "--sources", default=str(SOURCES_DIR), help="folder of policy texts (.md, .txt)"
    )
    build.add_argument("--out", default=str(MEASURES_CSV), help="measures CSV to write or check")
    build.add_argument("--units", default=str(UNITS_CSV), help="unit register CSV")
    build.add_argument(
        "--check", action="store_true", help="exit 1 if --out differs from the sources"
    )
    build.set_defaults(func=cmd_build)

    sync = sub.add_parser("sync", help="sync the store's tasks and assignments from the CSV")
    sync.add_argument("--measures", help="measures CSV (default: TRACKER_MEASURES_CSV or data/)")
    sync.add_argument("--db", help="database URL (default: DATABASE_URL or data/tracker.db)")
    sync.add_argument(
        "--yes", action="store_true", help="apply a revision that moves or archives tasks"
    )
    sync.add_argument("--user", help="account confirming such a revision (督办员/管理员)")
    sync.set_defaults(func=cmd_sync)
    add = sub.add_parser("add", help="add a policy from a PDF, DOCX or text file (政策库)")
    add.add_argument("file", help="policy file: .pdf, .docx, .txt or .md")
    add.add_argument("--user", required=True, help="account publishing (督办员/管理员)")
    add.add_argument("--policy-id", help="policy id (default: from the file name)")
    add.add_argument(
        "--unit-alias", action="append", help="map an unknown unit name: 原名=登记单位 (repeatable)"
    )
    add.add_argument("--yes", action="store_true", help="publish (default: only show)")
    add.add_argument(
        "--accept-incomplete",
        action="store_true",
        help="publish although the last item is cut off (it is left out; default: exit 2)",
    )
    add.add_argument("--sources", help="folder of policy texts (default: data/sources)")
    add.add_argument("--out", help="measures CSV (default: TRACKER_MEASURES_CSV or data/)")
    add.add_argument("--units", help="unit register CSV (default: data/units.csv)")
    add.add_argument("--db", help="database URL (default: DATABASE_URL or data/tracker.db)")
    add.set_defaults(func=cmd_add)
    _add_excel_commands(sub)
    _add_user_command(sub)
    _add_notice_commands(sub)
    _add_operations_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except StoreUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except (TrackerError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
