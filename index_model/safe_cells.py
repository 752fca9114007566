"""Values written to CSV and XLSX never become live formulas (OWASP "CSV injection").

A region, respondent or unit name comes from delivered data or an analyst's table; a name such as
``=HYPERLINK("http://x","y")`` or ``=cmd|' /C calc'!A0`` must reach the reader as the text it is.
Following OWASP's guidance, a text value beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage
return is:

* CSV: prefixed with a single quote (``'=HYPERLINK(...)``), which spreadsheet programs show as text;
* XLSX: stored as a string cell (never ``<f>``) with the *quote prefix* style, so Excel keeps it text
  even when someone edits the cell.

Numbers stay numbers: a float -3.2 is written as a number; only *text* such as ``"-3.2"`` is prefixed.
Every writer of the project uses this module (``index_model.io``, ``reports.index_report``,
``reports.dq_report``, ``reports.drilldown``). It imports nothing of the project, so ``index_model``
stays pure and ``reports`` can use it without an import cycle.
"""
from __future__ import annotations

from typing import Any

# OWASP CSV injection: the characters that make a spreadsheet program read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

__all__ = ["FORMULA_STARTS", "looks_like_formula", "csv_value", "csv_frame", "set_cell", "neutralise_workbook"]


def looks_like_formula(value: Any) -> bool:
    """True for text a spreadsheet program could take as a formula."""
    return isinstance(value, str) and value[:1] in FORMULA_STARTS


def csv_value(value: Any) -> Any:
    """The value to write into a CSV field: formula-like text gets a leading ``'``; anything else as is."""
    return "'" + value if looks_like_formula(value) else value


def csv_frame(frame):
    """A copy of a DataFrame safe to ``to_csv``: formula-like text (cells and column names) prefixed;
    numeric, boolean and date columns untouched."""
    import pandas as pd

    out = frame.copy()
    for j in range(out.shape[1]):
        s = out.iloc[:, j]
        if s.dtype == object or isinstance(s.dtype, (pd.StringDtype, pd.CategoricalDtype)):
            out.isetitem(j, s.astype(object).map(csv_value))
    out.columns = [csv_value(c) for c in out.columns]
    return out


def set_cell(cell, value: Any) -> None:
    """Write ``value`` into an openpyxl cell: text always as a string cell (a leading ``=`` would
    otherwise become a formula), formula-like text with the quote-prefix style as well."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if looks_like_formula(value):
            cell.quotePrefix = True


def neutralise_workbook(book) -> int:
    """Make every formula-like text cell of an openpyxl workbook (e.g. one pandas wrote) a string
    cell with the quote prefix; returns how many cells were changed. Nothing in our outputs is a
    formula on purpose, so every ``'f'`` cell came from text."""
    changed = 0
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if cell.data_type == "f" or looks_like_formula(v):
                    if not isinstance(v, str):  # ArrayFormula / DataTableFormula objects: keep their text
                        v = str(getattr(v, "text", v))
                    cell.value = v
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    changed += 1
    return changed
