"""Issue 23 item 11: a hostile policy upload is refused in seconds, and neither the gate nor
the parser ever runs unbounded in the server's process (loaders/policy_worker.py).

Each file of the fault suite's hostile-policy family goes through ``draft_policy``, the call
政策库 and ``loaders add`` share, in this test process: it must be refused with the file
named, in under ten seconds, and this process's peak resident memory must not climb (the
gate reads by streaming; what passes it is parsed in the worker, whose memory is its own).
"""

from __future__ import annotations

import os
import resource
import time

import pytest

from bench.faults import hostile_policy_corpus
from loaders import policy_files
from loaders.policy_read import read_policy
from loaders.policy_records import PolicyParseErrors
from loaders.policy_worker import run_limited
from loaders.units import read_units
from tracker.errors import ImportFileError, PolicyParseError
from tracker.schema import UNITS_CSV

REGISTRY = read_units(UNITS_CSV.read_bytes())
SECONDS = 10.0
GROWTH_MB = 150  # this process's peak may rise by the file's bytes, never by its unpacking
CASES = {case.name: case for case in hostile_policy_corpus()}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_hostile_policy_is_refused_quickly_naming_the_file(name: str, monkeypatch) -> None:
    case = CASES[name]
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    data = case.build()
    before = _peak_mb()
    start = time.monotonic()
    with pytest.raises(ImportFileError) as refused:
        policy_files.draft_policy(data, name, REGISTRY, policy_id="hostile-1")
    assert time.monotonic() - start < SECONDS
    assert _peak_mb() - before < GROWTH_MB
    assert refused.value.file == name and case.says in str(refused.value)


def test_the_family_has_the_cases_issue_23_met() -> None:
    assert {"empty-paragraphs.docx", "one-letter-paragraphs.docx", "60000-measures.txt"} <= set(
        CASES
    )
    assert {"truncated.docx", "entities.docx"} <= set(CASES)
    assert {n.rsplit(".", 1)[1] for n in CASES} == {"docx", "pdf", "txt"}
    empty = CASES["empty-paragraphs.docx"].build()
    assert len(empty) < 300_000  # a small upload that unpacks to 96 MB


# --- the worker's budget ---------------------------------------------------------------------


def test_a_job_past_its_time_is_killed_and_named() -> None:
    start = time.monotonic()
    with pytest.raises(ImportFileError, match="解析超时") as refused:
        run_limited(time.sleep, 60, file="slow.docx", seconds=1, memory_mb=512)
    assert refused.value.file == "slow.docx"
    assert time.monotonic() - start < SECONDS


def test_a_job_past_its_memory_is_refused_and_named() -> None:
    before = _peak_mb()
    with pytest.raises(ImportFileError, match="内存超限") as refused:
        run_limited(bytearray, 2 * 1024**3, file="big.docx", seconds=30, memory_mb=512)
    assert refused.value.file == "big.docx"
    assert _peak_mb() - before < GROWTH_MB  # the 2 GB were asked for in the worker


def test_the_worker_gives_back_what_the_parser_gives_in_process() -> None:
    text = "关于甲的通知\n\n（一）做好甲。（责任单位：市科委）\n\n（二）做好乙。（责任单位：市教委、市财政局）"
    data = text.encode("utf-8")
    bounded = run_limited(read_policy, data, "a.txt", "a", file="a.txt", seconds=30, memory_mb=512)
    here = read_policy(data, "a.txt", "a")
    assert bounded == here
    assert [ref.unit for t in bounded.policy.tasks for ref in t.units] == [
        "市科委",
        "市教委",
        "市财政局",
    ]


def test_a_parse_error_crosses_from_the_worker_with_every_problem_and_line() -> None:
    text = (
        "（一）做好甲。（责任单位：市科委\n\n（二）做好乙。\n\n（三）做好丙。（责任单位：市科委）"
    )
    data = text.encode("utf-8")
    with pytest.raises(PolicyParseError) as here:
        read_policy(data, "b.txt", "b")
    with pytest.raises(PolicyParseError) as there:
        run_limited(read_policy, data, "b.txt", "b", file="b.txt", seconds=30, memory_mb=512)
    assert type(there.value) is type(here.value)
    assert str(there.value) == str(here.value) and there.value.line == here.value.line
    if isinstance(here.value, PolicyParseErrors):
        assert [str(p) for p in there.value.problems] == [str(p) for p in here.value.problems]


def test_a_worker_that_dies_is_an_error_naming_the_file() -> None:
    with pytest.raises(ImportFileError, match="异常退出（退出码 -6）") as refused:
        run_limited(os.abort, file="crash.pdf", seconds=30, memory_mb=512)
    assert refused.value.file == "crash.pdf"
