"""Reports as files (运营报表 export): CSV with the contract's header row, and XLSX (openpyxl).

The CSV's columns are exactly the JSON row's contract fields in the contract's order
(docs/protocol.md, reports), numbers as JSON writes them and an empty cell for ``null``; it
starts with a UTF-8 byte-order mark so Excel opens Chinese names correctly. The XLSX has the
same columns plus the label, one sheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell

CSV_TYPE = "text/csv; charset=UTF-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# A text starting with one of these is run as a formula by Excel (names, team names and skill
# labels are people's texts: "=HYPERLINK(...)" must not become a link in a supervisor's Excel).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # OWASP's CSV-injection defence: Excel shows the text as typed
    return "" if value is None else value


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("="):
        cell = Cell(sheet, value=value)
        cell.data_type = "s"  # openpyxl stores a text starting with = as a formula
        return cell
    return value


def to_csv(rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(row.get(f)) for f in fields])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[dict[str, Any]], fields: Sequence[str], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = title[:31]  # Excel's limit on a sheet's name
    sheet.append(list(fields))
    for row in rows:
        sheet.append([_xlsx_cell(sheet, row.get(f)) for f in fields])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
