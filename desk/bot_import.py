"""Importing the bot's knowledge base from a CSV or XLSX file (客服机器人 · 批量导入).

The admin page uploads the file twice: first ``dry_run`` (the preview: what would be added and
what replaced), then for real. The first row names the columns, in English or Chinese, in any
order: ``question``/问题, ``answer``/答案 (both required), ``similar``/相似问题 (one per line, or
separated by ``|``), ``keywords``/关键词 and ``skills``/技能 (separated by commas, ``、``, ``;`` or
``|``). CSV is read as UTF-8 (with or without Excel's byte-order mark), else GB18030 (what Excel
on a Chinese Windows saves); XLSX through openpyxl, its first sheet.

All or nothing: the first broken row is refused as ``bad_field`` naming the row and the column
(``row 3, column D (answer): is required``) and nothing is imported. A row whose question is
already in the knowledge base replaces that answer (its id, and so its usage counts, stay); the
others are added. The whole import is one change of the ``bot_answers`` setting: one version, one
audit entry.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import zipfile
from typing import Any

from desk.bot_kb import MAX_ANSWERS, KnowledgeBase, check_answer
from desk.errors import ValidationError
from store.records import PublicUser

# The HTTP server takes bodies up to 1 MiB (server.py); a file of 2,000 answers fits well within it.
MAX_IMPORT_BYTES = 1024 * 1024
FORMATS = ("csv", "xlsx")
# What of a workbook's first sheet is read: its dimension is the file's word, and a 5 KB file
# with one cell at XFD1048576 is otherwise 17 billion empty cells read on the event loop. Room
# for every answer with a blank row after each; the five columns and notes beside them.
MAX_XLSX_ROWS = 2 * MAX_ANSWERS + 1
MAX_XLSX_COLUMNS = 26
# What the parts of an XLSX may inflate to: 1 MB zipped can be a gigabyte of XML (a zip bomb),
# parsed on the event loop and held whole (the shared strings). A real 2,000-answer file is ~5 MB.
MAX_XLSX_INFLATED_BYTES = 32 * 1024 * 1024
EXCEL_MAX_ROWS = 1_048_576  # past the limit, rows are only looked at for content, up to Excel's own
# Column headings as people write them -> the answer's field.
HEADINGS = {"question": "question", "问题": "question", "标准问题": "question", "标准问": "question",
            "similar": "similar", "相似问题": "similar", "相似问法": "similar", "相似问": "similar",
            "keywords": "keywords", "关键词": "keywords", "关键字": "keywords",
            "answer": "answer", "答案": "answer", "回答": "answer",
            "skills": "skills", "技能": "skills", "技能组": "skills"}
SPLIT_SIMILAR = re.compile(r"[\r\n|]+")
SPLIT_LIST = re.compile(r"[,，、;；|\r\n]+")
TEMPLATE_ROWS = (("question", "similar", "keywords", "answer", "skills"),
                 ("信用卡年费怎么免", "信用卡年费可以减免吗|年费能不能免掉", "年费,免", "刷卡满6次即可免次年年费。", ""),
                 ("信用卡丢了怎么挂失", "卡片遗失如何办理挂失", "挂失", "请立即拨打客服热线或在手机银行挂失。", "cards"))


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (as a spreadsheet names its columns)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _bad(row: int, column: int | None, name: str | None, message: str) -> ValidationError:
    where = f"row {row}" if column is None else f"row {row}, column {column_letter(column)}"
    exc = ValidationError(f"{where} ({name})" if name else where, message)
    exc.extra = {**exc.extra, "row": row, "column": column_letter(column) if column is not None else None}
    return exc


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a spreadsheet's 6 is 6.0
    return str(value).strip()


def read_rows(data: bytes, fmt: str) -> list[list[str]]:
    """The file's rows as texts (the first is the headings). ValidationError ``file`` when it
    cannot be read as that format."""
    if fmt not in FORMATS:
        raise ValidationError("format", f"must be one of {', '.join(FORMATS)}")
    if not data:
        raise ValidationError("file", "is empty")
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationError("file", "is larger than 1 MB")
    if fmt == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                raise ValidationError("file", "is not a CSV text in UTF-8 or GB18030") from None
        try:
            return [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
        except csv.Error as exc:
            raise ValidationError("file", f"is not a valid CSV ({exc})") from None
    import openpyxl  # a dependency; imported here, only the import needs it

    # Anything openpyxl raises on a file someone uploaded means "not a workbook we can read"
    # (a zip of garbage XML raises ParseError, a wrong part KeyError, ...): never a 500.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(item.file_size for item in archive.infolist())
    except Exception as exc:
        raise ValidationError("file", f"is not an XLSX workbook ({type(exc).__name__})") from None
    if inflated > MAX_XLSX_INFLATED_BYTES:
        raise ValidationError("file", f"unzips to more than {MAX_XLSX_INFLATED_BYTES >> 20} MB")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationError("file", f"is not an XLSX workbook ({type(exc).__name__})") from None
    try:
        if not book.worksheets:
            raise ValidationError("file", "has no sheet")
        rows: list[list[str]] = []
        for number, row in enumerate(book.worksheets[0].iter_rows(max_col=MAX_XLSX_COLUMNS, values_only=True),
                                     start=1):
            if number <= MAX_XLSX_ROWS:
                rows.append([_cell(c) for c in row])
            elif number > EXCEL_MAX_ROWS or any(c not in (None, "") for c in row):
                raise ValidationError("file", f"has more than {MAX_XLSX_ROWS} rows in its first sheet")
        return rows
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError("file", f"is not an XLSX workbook ({type(exc).__name__})") from None
    finally:
        book.close()


def parse(data: bytes, fmt: str) -> list[dict[str, Any]]:
    """The answers a file holds, checked; the first broken row as ValidationError (row, column)."""
    rows = read_rows(data, fmt)
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise ValidationError("file", "has no rows; the first row names the columns")
    columns: dict[str, int] = {}
    for index, heading in enumerate(rows[0]):
        if not heading:
            continue
        name = HEADINGS.get(heading.strip().lower())
        if name is None:
            raise _bad(1, index, None, f"unknown column {heading[:40]!r}; the columns are "
                                       "question, similar, keywords, answer, skills (or 问题, 相似问题, 关键词, 答案, 技能)")
        if name in columns:
            raise _bad(1, index, name, f"column {heading[:40]!r} is there twice")
        columns[name] = index
    for required in ("question", "answer"):
        if required not in columns:
            raise _bad(1, None, required, f"the {required} column is missing")
    answers: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        if len(answers) >= MAX_ANSWERS:
            raise _bad(number, None, None, f"more than {MAX_ANSWERS} answers")
        cells = {name: row[i] if i < len(row) else "" for name, i in columns.items()}
        body: dict[str, Any] = {
            "question": cells.get("question", ""), "answer": cells.get("answer", ""),
            "similar": [s for s in SPLIT_SIMILAR.split(cells.get("similar", ""))],
            "keywords": [s for s in SPLIT_LIST.split(cells.get("keywords", ""))],
            "skills": [s for s in SPLIT_LIST.split(cells.get("skills", ""))]}
        try:
            answer = check_answer(body, "")
        except ValidationError as exc:
            raise _bad(number, columns.get(exc.field), exc.field, exc.message.split(": ", 1)[-1]) from None
        if answer["question"] in seen:
            raise _bad(number, columns["question"], "question",
                       f"{answer['question'][:40]!r} is already in row {seen[answer['question']]}")
        seen[answer["question"]] = number
        del answer["id"]
        answers.append(answer)
    if not answers:
        raise ValidationError("file", "has no answers below its first row")
    return answers


def template_csv() -> bytes:
    """A file to start from: the headings and two example rows (UTF-8 with a BOM, so Excel reads it)."""
    out = io.StringIO()
    csv.writer(out).writerows(TEMPLATE_ROWS)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "bot_answers"
    for row in TEMPLATE_ROWS:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def import_file(kb: KnowledgeBase, user: PublicUser, data: bytes, fmt: str,
                      dry_run: bool) -> dict[str, Any]:
    """Preview (``dry_run``) or apply a file; the counts and questions added and replaced."""
    # In a worker thread: reading a 1 MB workbook takes openpyxl seconds the event loop (every
    # console's socket, every webhook) would otherwise wait for.
    incoming = await asyncio.to_thread(parse, data, fmt)
    merged, added, replaced = kb.merge(await kb.stored(), incoming)
    if len(merged) > MAX_ANSWERS:
        raise ValidationError("file", f"the knowledge base would hold {len(merged)} answers, more than {MAX_ANSWERS}")
    if not dry_run:
        await kb.replace_all(user, merged)
    return {"dry_run": dry_run, "rows": len(incoming), "added": added, "replaced": replaced,
            "answers": incoming}
