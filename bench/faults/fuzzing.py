"""Fuzzing with hypothesis: the policy-text parser and table builder, and the importer
(random cell values, random bytes in the workbook's XML).  Only TrackerErrors may come out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from bench.faults.cli_run import PANIC
from bench.faults.databases import (
    backend_of,
    fingerprint,
    ledger_problems,
    seed_store,
    stored_versions,
)
from bench.faults.hostile_corpus import members_of, with_member
from bench.faults.outcome import Outcome, stderr_captured, timed
from bench.generate import cn_number, synthetic_measures, synthetic_policy_text
from excel.read import import_workbook
from excel.template import build_template
from loaders.measures_csv import build_measures, normalize_frame, read_measures, to_csv_bytes
from loaders.policy_text import parse_policy
from loaders.units import read_units
from tracker.errors import TrackerError
from tracker.schema import STAFF, SUPERVISOR, UNITS_CSV


def _panic_site(printed: str) -> str:
    """'file:line: message' of the first Rust panic report in ``printed``."""
    lines = printed[printed.index(PANIC) :].splitlines()
    where = lines[0][len(PANIC) :].strip().rstrip(":").split("/registry/src/")[-1]
    where = where.split("/", 1)[-1] if where.startswith("index.") else where  # the crate onwards
    return f"{where}: {lines[1].strip() if len(lines) > 1 else ''}"


def _fuzz_settings(examples: int, seed: int) -> Callable:
    def apply(test: Callable) -> Callable:
        configured = settings(
            max_examples=examples,
            deadline=None,
            database=None,
            verbosity=Verbosity.quiet,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
                HealthCheck.large_base_example,
            ],
        )(test)
        return hypothesis_seed(seed)(configured)

    return apply


class _Fuzz:
    """Counts what a hypothesis run tried and keeps the smallest failing input it found."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.failing: tuple[str, BaseException] | None = None
        self.panics: set[str] = set()  # where the reader panicked, and why

    def run(self, test: Callable, outcome: Outcome, what: str) -> None:
        try:
            test()
        except Exception as exc:  # hypothesis re-raises the (shrunk) failure: report it
            given_input, error = self.failing or ("?", exc)
            outcome.fail(
                f"{what}: {error.__class__.__name__}: {str(error)[:300]} — on {given_input[:400]}"
            )

    def record(self, given_input: str, error: BaseException) -> None:
        self.failing = (given_input, error)


UNIT_NAMES = read_units(UNITS_CSV.read_bytes()).names()
_SEPARATORS = ["、", "，", ",", "；", ";", "和", "及", " ", "、\n", "等"]
_POLICY_LINES = st.one_of(
    st.sampled_from(
        [
            "",
            "一、总则",
            "## 二、重点任务",
            "**三、保障措施**",
            "第四章　附则",
            "第五条　",
            "上海市人民政府办公厅",
            "2025年5月27日",
            "沪府办发〔2025〕11号",
            "（此件公开发布）",
            "- 3 -",
            "— 12 —",
            "自2025年6月1日起施行，有效期至2027年5月31日。",
            "有效期至2025年2月30日。",
            "2025年底前",
            "完成时限：2026年6月底",
            "（完成时限：2099年12月31日前）",
            "2025年13月底前",
            "# 关于印发《若干措施》的通知",
            "**发布机构**: 上海市人民政府办公厅",
            "---",
            "|表|格|",
            "（市科委牵头，市教委配合）",
            "責任單位：市發展改革委",
            "\u3000\u3000",
            "\u200b",
        ]
    ),
    st.builds(
        lambda kind, units, sep, close: f"（{kind}：{sep.join(units)}{close}",
        st.sampled_from(["责任单位", "牵头单位", "配合单位", "責任單位", "责任部门"]),
        st.lists(st.sampled_from(UNIT_NAMES) | st.text(max_size=6), min_size=1, max_size=6),
        st.sampled_from(_SEPARATORS),
        st.sampled_from(["）", ")", "", "）。", "；配合单位：市教委）"]),
    ),
    st.builds(
        lambda n, style, title, body: style.format(n=n, cn=cn_number(n), title=title, body=body),
        st.integers(1, 60),
        st.sampled_from(
            [
                "（{cn}）{title}。{body}",
                "{cn}、{title}",
                "{n}.{body}",
                "{n}、{body}",
                "({n}){body}",
                "第{cn}条　{body}",
                "**（{cn}）{title}**",
                "（{cn}）",
            ]
        ),
        st.text(max_size=10),
        st.text(max_size=40),
    ),
    st.text(max_size=40),
)


@st.composite
def _damaged_policy(draw) -> list[str]:
    """A well-formed synthetic policy with lines inserted, deleted and replaced: reaches the
    parser's deeper paths far more often than noise does."""
    number = draw(st.integers(1, 9999))
    lines = synthetic_policy_text(number, measures=draw(st.integers(1, 14))).split("\n")
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(lines)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "cut"]))
        if action == "insert":
            lines.insert(at, draw(_POLICY_LINES))
        elif lines and action == "delete":
            del lines[min(at, len(lines) - 1)]
        elif lines and action == "replace":
            lines[min(at, len(lines) - 1)] = draw(_POLICY_LINES)
        elif lines:
            line = lines[min(at, len(lines) - 1)]
            cut = draw(st.integers(0, len(line)))
            lines[min(at, len(lines) - 1)] = line[:cut]
    return lines


POLICY_TEXTS = st.builds(
    lambda lines, newline: newline.join(lines),
    st.one_of(st.lists(_POLICY_LINES, max_size=40), _damaged_policy()),
    st.sampled_from(["\n", "\r\n", "\n\n", "\r"]),
)
POLICY_NAMES = st.sampled_from(
    [
        "2025-05-27_hufubanfa-2025-11.md",
        "2024-06-12_shuju-yaosu-2024-7.txt",
        "2025-13-45_bad-date.md",
        "random.md",
        "_.txt",
        "2025-01-01_.md",
    ]
) | st.text(max_size=30).map(lambda s: s + ".md")
POLICY_BYTES = st.one_of(
    st.tuples(POLICY_TEXTS, st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"])).map(
        lambda pair: pair[0].encode(pair[1])
    ),
    st.binary(max_size=400),
)


def fuzz_policy_texts(*, examples: int = 500, seed: int = 0) -> Outcome:
    """Random policy texts (real structure, broken structure, noise, other encodings) through
    ``parse_policy`` and ``build_measures``; what builds must survive the CSV round trip."""
    outcome = Outcome("fuzzing: policy texts", "no database")
    fuzz = _Fuzz()
    registry = read_units(UNITS_CSV.read_bytes())

    @_fuzz_settings(examples, seed)
    @given(
        text_=POLICY_TEXTS,
        sources=st.lists(st.tuples(POLICY_NAMES, POLICY_BYTES), min_size=1, max_size=3),
    )
    def parse_and_build(text_: str, sources: list[tuple[str, bytes]]) -> None:
        fuzz.counts["texts"] += 1
        fuzz.counts["source sets"] += 1
        try:
            try:
                parse_policy(text_, "fuzz.md")
                fuzz.counts["parsed"] += 1
            except TrackerError:
                fuzz.counts["refused"] += 1
            try:
                built = build_measures(sources, registry)
            except TrackerError:
                fuzz.counts["sets refused"] += 1
                return
            fuzz.counts["tables built"] += 1
            again = read_measures(to_csv_bytes(built.frame))
            pd.testing.assert_frame_equal(again, normalize_frame(built.frame))
        except BaseException as exc:
            fuzz.record(f"text={text_!r}, sources={sources!r}", exc)
            raise

    with timed(outcome):
        fuzz.run(parse_and_build, outcome, "parse_policy / build_measures")
        c = outcome.counts = fuzz.counts
        outcome.tried = (
            f"{c['texts']:,} policy texts through parse_policy and {c['source sets']:,} sets of "
            "1–3 source files (UTF-8, GB18030, UTF-16, raw bytes) through build_measures"
        )
        outcome.happened = (
            f"{c['parsed']:,} texts parsed, {c['refused']:,} refused with a PolicyParseError; "
            f"{c['tables built']:,} tables built (each read back equal from its CSV), "
            f"{c['sets refused']:,} refused; "
            + ("no other exception" if outcome.ok else "other exceptions: see below")
        )
    return outcome


def fuzz_importer(
    url: str, folder: Path, *, examples: int = 100, seed: int = 0, assignments: int = 80
) -> Outcome:
    """Random cell values (in any column, keys and hidden version included) and random bytes
    spliced into the workbook's XML parts, imported in every mode as a supervisor or a staff
    member: only TrackerErrors, nothing written when refused or dry, the rows reported
    written exactly the rows whose version moved (by one), and progress and history agreeing
    afterwards.

    Long (about 150 lines) for a reason: hypothesis runs the two nested tests, which close
    over the seeded store, its accounts and the counters; most of the length is their
    strategies (the byte splices listed literally) and the summary's wording."""
    from tests.test_import_hostile import CELL_VALUES, LETTER, with_cells

    outcome = Outcome("fuzzing: importer", backend_of(url))
    fuzz = _Fuzz()
    with timed(outcome):
        store, _csv = seed_store(url, synthetic_measures(assignments, units=6, seed=seed), folder)
        frame = store.assignments()
        unit = frame["unit"].value_counts().index[0]
        rows = int((frame["unit"] == unit).sum())
        store.accounts.add("faults-fuzz", role=SUPERVISOR, password=None)
        store.accounts.add("faults-staff", role=STAFF, units=[unit], password=None)
        accounts = {
            "supervisor": store.accounts.account("faults-fuzz"),
            "staff": store.accounts.account("faults-staff"),
        }
        members = sorted(members_of(build_template(frame, unit)))

        def attempt(data: bytes, mode: str, who: str) -> None:
            before = fingerprint(store.engine)
            versions = stored_versions(store.engine)
            fuzz.counts[f"mode {mode}"] += 1
            try:
                with stderr_captured() as printed:
                    result = import_workbook(
                        store,
                        data,
                        file_name="fuzz.xlsx",
                        user=accounts[who],
                        dry_run=mode == "dry-run",
                        all_or_nothing=mode == "all-or-nothing",
                    )
            except TrackerError as exc:
                fuzz.counts[exc.__class__.__name__] += 1
                if PANIC in printed.text:
                    fuzz.counts["reader panics printed"] += 1
                    fuzz.panics.add(_panic_site(printed.text))
                assert fingerprint(store.engine) == before, "a refused file wrote something"
                return
            fuzz.counts["imported" if result.ok else "rows refused"] += 1
            if mode == "dry-run" or (mode == "all-or-nothing" and not result.ok):
                assert fingerprint(store.engine) == before, f"{mode} import wrote something"
            moved = {aid for aid, v in stored_versions(store.engine).items() if v != versions[aid]}
            said = set(result.diffs["assignment_id"].astype(int)) if result.written else set()
            assert moved == said, f"rows written {sorted(moved)}, reported {sorted(said)}"
            assert all(stored_versions(store.engine)[aid] == versions[aid] + 1 for aid in moved)
            problems = ledger_problems(store.engine)
            assert not problems, problems[:3]

        @_fuzz_settings(examples, seed)
        @given(
            cells=st.dictionaries(
                st.tuples(st.integers(3, rows + 2), st.sampled_from(sorted(LETTER))),
                CELL_VALUES,
                min_size=1,
                max_size=10,
            ),
            mode=st.sampled_from(["partial", "all-or-nothing", "dry-run"]),
            who=st.sampled_from(["supervisor", "staff"]),
        )
        def cell_values(cells: dict, mode: str, who: str) -> None:
            fuzz.counts["workbooks (cells)"] += 1
            try:
                template = build_template(store.assignments(), unit)
                edits = {f"{LETTER[header]}{row}": value for (row, header), value in cells.items()}
                attempt(with_cells(template, edits), mode, who)
            except BaseException as exc:
                fuzz.record(f"cells={cells!r}, mode={mode}, who={who}", exc)
                raise

        @_fuzz_settings(examples, seed)
        @given(
            member=st.sampled_from(members),
            splices=st.lists(
                st.tuples(
                    st.floats(0, 1),
                    st.integers(0, 12),
                    st.sampled_from(
                        [
                            b"",
                            b"<",
                            b">",
                            b"/",
                            b'"',
                            b"&",
                            b"\x00",
                            b"\xff\xfe",
                            b"&lol;",
                            b'<c r="XFD1048576"><v>1</v></c>',
                            b"<f>1+1</f>",
                            b'r="A0"',
                            b't="s"',
                            b"<v>-1e12</v>",
                            b'<row r="0">',
                            b"<!DOCTYPE x>",
                            b"</sheetData>",
                            b'<dimension ref="A1:XFD1048576"/>',
                        ]
                    )
                    | st.binary(max_size=8),
                ),
                min_size=1,
                max_size=4,
            ),
            mode=st.sampled_from(["partial", "all-or-nothing", "dry-run"]),
        )
        def xml_bytes(member: str, splices: list, mode: str) -> None:
            fuzz.counts["workbooks (XML bytes)"] += 1
            try:
                template = build_template(store.assignments(), unit)
                body = members_of(template)[member]
                for where, cut, insert in splices:
                    at = int(where * len(body))
                    body = body[:at] + insert + body[at + cut :]
                attempt(with_member(template, member, body), mode, "supervisor")
            except BaseException as exc:
                fuzz.record(f"member={member}, splices={splices!r}, mode={mode}", exc)
                raise

        fuzz.run(cell_values, outcome, "import_workbook, random cell values")
        fuzz.run(xml_bytes, outcome, "import_workbook, random bytes in the XML")
        outcome.details += [f"reader panic (caught): {site}" for site in sorted(fuzz.panics)]
        store.engine.dispose()
        c = outcome.counts = fuzz.counts
        refusals = ", ".join(
            f"{c[k]} {k}" for k in sorted(c) if k.endswith("Error") or k == "PermissionDenied"
        )
        outcome.tried = (
            f"{c['workbooks (cells)']:,} templates with random values in up to 10 cells of "
            f"{rows} rows (any column, keys and the hidden version included) and "
            f"{c['workbooks (XML bytes)']:,} with random bytes spliced into their XML, imported "
            f"partial / all-or-nothing / dry-run ({c['mode partial']}/{c['mode all-or-nothing']}/"
            f"{c['mode dry-run']}) as a supervisor or a staff member"
        )
        outcome.happened = (
            f"{c['imported']} imported cleanly, {c['rows refused']} with refused rows, refused "
            f"as files: {refusals or 'none'} ({c['reader panics printed']} of them after a "
            "reader panic, caught, its report printed to stderr); nothing written by a refusal or "
            "a dry run, rows reported written = rows whose version moved, progress and history "
            "agreeing after every import"
            if outcome.ok
            else "failures: see below"
        )
    return outcome
