r"""Any table as CSV bytes for download: UTF-8 with a BOM (so Excel opens Chinese cleanly)
and no text that a spreadsheet would run as a formula.

The Excel report keeps a note such as ``=HYPERLINK(...)`` harmless by writing it as a string
cell (:func:`excel.kit.styled`, ``render_rows``).  A CSV has no cell types, so
Excel, LibreOffice and Google Sheets evaluate a field that starts with ``=``, ``+``, ``-``,
``@`` (or a tab / carriage return in front of one).  Such text fields get a leading
apostrophe, the spreadsheet convention for "this is text" (OWASP's advice for CSV
injection); numbers stay numbers, so ``-2`` in a number column is still minus two.

>>> csv_bytes(pd.DataFrame({"更新人": ["=1+1", "张三"], "滞后": [-2, 0]})).decode("utf-8-sig")
"更新人,滞后\r\n'=1+1,-2\r\n张三,0\r\n"
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> object:
    """``value`` with an apostrophe in front when it is text a spreadsheet would evaluate.

    >>> inert("=1+1"), inert("-2"), inert("市科委"), inert(-2)
    ("'=1+1", "'-2", '市科委', -2)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` (headers and every text cell made inert, no index) as UTF-8-with-BOM CSV.

    Rows end in CRLF (RFC 4180), which also makes the writer quote any field holding a
    line break or carriage return, so such a note never splits a row.
    """
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
            safe[column] = values.astype(object).map(inert)
    safe.columns = [inert(str(c)) for c in safe.columns]
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
