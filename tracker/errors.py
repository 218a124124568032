"""A small exception hierarchy that carries *where* (file, sheet, row, column) and *what*.

Pages show ``str(error)`` with ``st.error``; the CLI prints it and exits non-zero.

>>> str(PolicyParseError("no responsibility clause found", file="a.txt", line=3))
'a.txt, line 3: no responsibility clause found'
"""

from __future__ import annotations

from dataclasses import dataclass, field


class TrackerError(ValueError):
    """Base class: a message plus an optional location."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column
        self.line = line
        super().__init__(str(self))

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"工作表「{self.sheet}」")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"列「{self.column}」")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message

    def __reduce__(self):
        """Pickle by attributes, not by the constructor's arguments (which differ between
        the subclasses), so an error crosses from a worker process intact."""
        return (_restored, (type(self), dict(self.__dict__)))


def _restored(cls: type[TrackerError], state: dict) -> TrackerError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    ValueError.__init__(error, str(error))
    return error


class PolicyParseError(TrackerError):
    """A policy text that cannot be turned into measures and tasks."""


class ImportFileError(TrackerError):
    """An uploaded file that is not a workbook we can read (wrong type, too big, hostile...)."""


class ValidationError(TrackerError):
    """One or more rows break the progress rules.  ``problems`` lists every one of them."""

    def __init__(self, message: str, problems: list[Problem] | None = None, **where) -> None:
        self.problems = problems or []
        super().__init__(message, **where)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        return head + "\n" + "\n".join(f"- {p}" for p in self.problems)


class ConflictError(TrackerError):
    """Someone else changed the row since it was loaded; nothing was written."""

    def __init__(self, message: str, conflicts: list[Conflict] | None = None, **where) -> None:
        self.conflicts = conflicts or []
        super().__init__(message, **where)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.conflicts:
            return head
        return head + "\n" + "\n".join(f"- {c}" for c in self.conflicts)


class PermissionDenied(ValidationError):
    """The signed-in account may not do this; ``problems`` names each refused row."""


class SignInError(TrackerError):
    """Wrong name or password, a locked or a disabled account."""


class ConfigError(TrackerError):
    """An environment setting with a value the tracker cannot use."""


class StoreUnavailable(TrackerError):
    """The database cannot be reached or written (read-only, full, locked, down)."""


@dataclass(frozen=True)
class Problem:
    """One invalid value: where it is and why it was refused."""

    message: str
    row: int | None = None
    column: str | None = None
    value: object = None
    sheet: str | None = None
    task_id: str | None = None

    def __str__(self) -> str:
        where = []
        if self.sheet:
            where.append(f"工作表「{self.sheet}」")
        if self.row is not None:
            where.append(f"第{self.row}行")
        if self.column:
            where.append(f"列「{self.column}」")
        if self.task_id:
            where.append(f"任务 {self.task_id}")
        prefix = ", ".join(where)
        value = "" if self.value is None else f"（值：{self.value!r}）"
        return f"{prefix}: {self.message}{value}" if prefix else f"{self.message}{value}"

    def on_form(self) -> str:
        """The problem as a form shows it: the field by its label (a form has no rows or
        columns, and shows one task), then why, then the value entered.

        >>> Problem("须在 0 到 100 之间", row=3, column="完成比例(%)", value=150,
        ...         task_id="p-m01-t1").on_form()
        '「完成比例(%)」：须在 0 到 100 之间（填写的值：150）'
        """
        value = "" if self.value is None or self.value == "" else f"（填写的值：{self.value}）"
        field = f"「{self.column}」：" if self.column else ""
        return f"{field}{self.message}{value}"


@dataclass(frozen=True)
class Conflict:
    """A stale edit: what the editor based the change on vs. what is stored now."""

    assignment_id: int
    task_id: str
    unit: str
    base_version: int
    current_version: int
    updated_by: str | None
    theirs: dict = field(default_factory=dict)
    mine: dict = field(default_factory=dict)

    def __str__(self) -> str:
        theirs = "，".join(f"{k}={v}" for k, v in self.theirs.items())
        mine = "，".join(f"{k}={v}" for k, v in self.mine.items())
        return (
            f"任务 {self.task_id}（{self.unit}）已被 {self.updated_by or '他人'} 修改"
            f"（版本 {self.base_version} → {self.current_version}）。"
            f"对方的值：{theirs or '—'}；您的修改：{mine or '—'}"
        )
