"""Importing the bot's knowledge base from CSV and XLSX through the real app (``POST /api/bot/import``):
a preview that changes nothing, then the import (one audited version); Excel's CSV (UTF-8 with a
BOM, CRLF, Chinese headings) and a GB18030 one; XLSX; a broken row named by row and column with
nothing imported; an answer with no question refused; a question already asked replaces its
answer (usage counts kept); the template files download and import as they are."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

CSV_TYPE = {"Content-Type": "text/csv"}
XLSX_TYPE = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

EXCEL_CSV = ("\ufeff问题,相似问题,关键词,答案,技能\r\n"
             "信用卡年费怎么免,信用卡年费可以减免吗|年费能不能免掉,\"年费,免\",刷卡满6次即可免次年年费。,\r\n"
             "信用卡丢了怎么挂失,卡片遗失如何办理挂失,挂失,请立即拨打客服热线挂失。,cards、general\r\n"
             ",,,,\r\n").encode("utf-8")


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.gen_test(timeout=30)
async def test_a_preview_changes_nothing_and_the_import_adds_and_replaces(api, login) -> None:
    admin, _ = await login("admin")
    agent, _ = await login("alice")
    assert (await api("/api/bot/import?dry_run=1", "POST", EXCEL_CSV, token=agent, headers=CSV_TYPE))[0] == 403

    status, preview = await api("/api/bot/import?dry_run=1", "POST", EXCEL_CSV, token=admin, headers=CSV_TYPE)
    assert status == 200, preview
    assert (preview["dry_run"], preview["rows"], preview["replaced"]) == (True, 2, [])
    assert preview["added"] == ["信用卡年费怎么免", "信用卡丢了怎么挂失"]
    first, second = preview["answers"]
    assert first["similar"] == ["信用卡年费可以减免吗", "年费能不能免掉"] and first["keywords"] == ["年费", "免"]
    assert second["skills"] == ["cards", "general"] and first["skills"] == []
    assert (await api("/api/bot/answers", token=admin))[1]["answers"] == []  # a preview only

    status, done = await api("/api/bot/import", "POST", EXCEL_CSV, token=admin, headers=CSV_TYPE)
    assert status == 200 and done["dry_run"] is False
    answers = (await api("/api/bot/answers", token=admin))[1]["answers"]
    assert [a["question"] for a in answers] == ["信用卡年费怎么免", "信用卡丢了怎么挂失"]
    fee_id = answers[0]["id"]
    status, tried = await api("/api/bot/try", "POST", {"question": "年费能不能免掉"}, token=admin)
    assert tried["answered"] and tried["answer"]["id"] == fee_id

    # XLSX: the fee answer again (replaced, same id) and a new one.
    book = xlsx([["question", "answer", "keywords"], ["信用卡年费怎么免", "刷卡满6次免年费，详询客服。", "年费"],
                 ["怎么提高信用卡额度", "用卡满6个月可申请提额。", "额度, 提额"]])
    status, done = await api("/api/bot/import?format=xlsx", "POST", book, token=admin)
    assert status == 200, done
    assert (done["added"], done["replaced"]) == (["怎么提高信用卡额度"], ["信用卡年费怎么免"])
    answers = (await api("/api/bot/answers", token=admin))[1]["answers"]
    assert [(a["id"] == fee_id, a["answer"]) for a in answers[:1]] == [(True, "刷卡满6次免年费，详询客服。")]
    assert len(answers) == 3 and answers[0]["similar"] == []  # the file's row is the whole answer
    entries = (await api("/api/audit?limit=50", token=admin))[1]["entries"]
    assert len([e for e in entries if e["target"] == "bot_answers"]) == 2  # one version per import

    gbk = "问题,答案\n网银密码忘了怎么办,请到柜台或在手机银行重置密码。\n".encode("gb18030")
    status, done = await api("/api/bot/import?dry_run=1", "POST", gbk, token=admin, headers=CSV_TYPE)
    assert status == 200 and done["added"] == ["网银密码忘了怎么办"]


def corrupted_xlsx() -> bytes:
    """A real workbook whose sheet's XML is cut off (a zip that opens, a sheet that does not parse)."""
    good = zipfile.ZipFile(io.BytesIO(xlsx([["问题", "答案"], ["年费", "免"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as broken:
        for item in good.infolist():
            data = good.read(item.filename)
            broken.writestr(item, b"<worksheet><sheetData><row><c" if item.filename.startswith("xl/worksheets/")
                            else data)
    return out.getvalue()


@pytest.mark.gen_test(timeout=30)
async def test_a_broken_row_is_named_by_row_and_column_and_nothing_is_imported(api, login) -> None:
    admin, _ = await login("admin")

    async def refused(body: bytes, headers=CSV_TYPE, path="/api/bot/import") -> dict:
        status, answer = await api(path, "POST", body, token=admin, headers=headers)
        assert status == 400 and answer["error"]["code"] == "bad_field", answer
        return answer["error"]

    no_answer = "question,similar,keywords,answer\n年费怎么免,,,免年费\n挂失,,,\n".encode()
    error = await refused(no_answer)
    assert error["message"] == "row 3, column D (answer): is required (non-empty text)"
    assert (error["row"], error["column"]) == (3, "D")
    no_question = "答案,问题\n免年费,年费怎么免\n只有答案,\n".encode()
    error = await refused(no_question)
    assert error["message"].startswith("row 3, column B (question): is required")
    error = await refused("问题,答案,备注\n年费,免\n".encode())
    assert error["message"].startswith("row 1, column C: unknown column '备注'")
    error = await refused("答案\n免年费\n".encode())
    assert error["message"] == "row 1 (question): the question column is missing"
    error = await refused("问题,答案\n年费,免\n挂失,打电话\n年费,又一次\n".encode())
    assert error["message"] == "row 4, column A (question): '年费' is already in row 2"
    error = await refused(("问题,答案\n" + "年" * 201 + ",免\n").encode())
    assert error["message"].startswith("row 2, column A (question): is longer than 200")
    error = await refused(xlsx([["问题", "答案"], ["年费怎么免", "免"], ["挂失", None]]), XLSX_TYPE)
    assert error["message"] == "row 3, column B (answer): is required (non-empty text)"
    error = await refused(b"PK\x03\x04 not really a workbook", XLSX_TYPE)
    assert error["field"] == "file" and "XLSX" in error["message"]
    error = await refused(corrupted_xlsx(), XLSX_TYPE)
    assert error["field"] == "file" and "XLSX" in error["message"]
    error = await refused(b"", CSV_TYPE)
    assert error["field"] == "file"
    error = await refused(EXCEL_CSV, CSV_TYPE, "/api/bot/import?format=pdf")
    assert error["field"] == "format"
    assert (await api("/api/bot/answers", token=admin))[1]["answers"] == []  # nothing, ever


@pytest.mark.gen_test(timeout=30)
async def test_the_templates_download_and_import_as_they_are(api, login, base_url) -> None:
    import tornado.httpclient

    admin, _ = await login("admin")
    client = tornado.httpclient.AsyncHTTPClient()
    files = {}
    for fmt in ("csv", "xlsx"):
        response = await client.fetch(f"{base_url}/api/bot/import/template?format={fmt}",
                                      headers={"Authorization": f"Bearer {admin}"})
        assert "attachment" in response.headers["Content-Disposition"]
        files[fmt] = response.body
    assert files["csv"].startswith("\ufeffquestion,similar".encode())
    for fmt, body in files.items():
        status, preview = await api(f"/api/bot/import?dry_run=1&format={fmt}", "POST", body, token=admin)
        assert status == 200 and preview["added"] == ["信用卡年费怎么免", "信用卡丢了怎么挂失"], (fmt, preview)
    assert (await api("/api/bot/import/template?format=doc", token=admin))[0] == 400
