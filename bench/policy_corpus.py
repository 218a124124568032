"""How exactly the parser reads the policy corpus: ``python -m bench.policy_corpus [FOLDER]``.

Issue 20's targets, measured on our own corpus (``tests/data/policies/``: one folder per
kind of real-world copy, each text beside a ``.json`` written by hand from reading it, whose
``rows`` are the rows that must come out, ``[measure, task, unit, role]`` in published
order):

* **exact share**: of the expected rows, how many come out exactly (unit, lead/support role,
  measure and task, in order); rows are paired by aligning the two lists
  (:class:`difflib.SequenceMatcher`), so one missing row costs one row, not every row after;
* **silent wrong rows**: a row that comes out but is not expected is *wrong*; it is *silent*
  when no warning names a line of its task (from its measure's heading to its clause).
  The target is 0: a wrong row must never come out without a warning pointing at it.

``tests/test_policy_corpus.py`` asserts the targets (at least 95 % exact, no silent wrong
row); this prints the figures per text and in all.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loaders.policy_read import read_policy
from loaders.policy_records import Policy

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "policies"
TEXT_SUFFIXES = (".txt", ".md")
Row = tuple[int, int, str, str]  # measure, task, unit, role


@dataclass
class Score:
    """Expected, exact, wrong and silent wrong rows of one text (or of many, added up)."""

    expected: int = 0
    exact: int = 0
    wrong: list[str] = field(default_factory=list)  # "file: row (warned at line n)"
    silent: list[str] = field(default_factory=list)  # "file: row": wrong, with no warning

    @property
    def share(self) -> float:
        return self.exact / self.expected if self.expected else 1.0

    def add(self, other: Score) -> None:
        self.expected += other.expected
        self.exact += other.exact
        self.wrong += other.wrong
        self.silent += other.silent


def corpus_texts(folder: Path = CORPUS) -> list[Path]:
    """Every text of the corpus that has its expected rows beside it, by kind and name."""
    return sorted(
        p
        for p in folder.glob("*/*")
        if p.suffix in TEXT_SUFFIXES and p.with_suffix(".json").exists()
    )


def rows_with_lines(policy: Policy) -> list[tuple[Row, range]]:
    """Each row the policy gives, with the lines of its task (measure heading to clause)."""
    return [
        ((measure.no, task.seq, ref.unit, ref.role), range(measure.line, task.line + 1))
        for measure in policy.measures
        for task in measure.tasks
        for ref in task.units
    ]


def score_text(path: Path) -> Score:
    """Read ``path`` as an upload is read (the parser, in this process) and compare."""
    expected = [
        tuple(row) for row in json.loads(path.with_suffix(".json").read_text("utf-8"))["rows"]
    ]
    policy = read_policy(path.read_bytes(), path.name, "corpus-1").policy
    got = rows_with_lines(policy)
    warned = {w.line for w in policy.warnings if w.line}
    matcher = difflib.SequenceMatcher(a=expected, b=[row for row, _ in got], autojunk=False)
    score = Score(expected=len(expected))
    paired: set[int] = set()
    for block in matcher.get_matching_blocks():
        score.exact += block.size
        paired.update(range(block.b, block.b + block.size))
    for index, (row, lines) in enumerate(got):
        if index in paired:
            continue
        where = sorted(warned.intersection(lines))
        name = f"{path.parent.name}/{path.name}: {list(row)}"
        score.wrong.append(f"{name} (warned at line {where[0]})" if where else name)
        if not where:
            score.silent.append(name)
    return score


def score_corpus(texts: Sequence[Path]) -> tuple[Score, dict[str, Score]]:
    """The whole corpus's score and each text's."""
    total, each = Score(), {}
    for path in texts:
        each[f"{path.parent.name}/{path.name}"] = score = score_text(path)
        total.add(score)
    return total, each


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    folder = Path(args[0]) if args else CORPUS
    total, each = score_corpus(corpus_texts(folder))
    for name, score in each.items():
        print(f"{name}: {score.exact}/{score.expected} exact, {len(score.wrong)} wrong")
    for wrong in total.wrong:
        print(f"wrong: {wrong}")
    print(
        f"in all: {total.exact}/{total.expected} expected rows exact ({total.share:.1%}), "
        f"{len(total.wrong)} wrong rows, {len(total.silent)} silent"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
