"""The reports section (运营报表) in Chromium against the demo server: a supervisor goes from the
wall to the reports, sees today's sessions by skill and by agent (table and chart), the agents'
state times, exports CSV and XLSX, and reads the page in English. axe on the page; screenshots
looked at."""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import go_available, login, run_axe, save_screenshot

pytestmark = pytest.mark.browser


def _serve_one(alice, sim, text: str) -> str:
    openid = f"o_rep_{uuid.uuid4().hex[:8]}"
    sim.send(openid, text)
    offer = alice.locator(".offer-card")
    offer.get_by_role("button", name=re.compile("^接入")).click()
    expect(offer).to_have_count(0)
    alice.locator("#composer-input").fill("您好，我来帮您处理。")
    alice.locator("#composer-input").press("Enter")
    expect(alice.locator("#messages .msg-out", has_text="我来帮您处理").locator(".msg-status")).to_have_text("已送达")
    alice.locator("#btn-close").click()
    close = alice.locator("#close-dialog")
    close.get_by_label("小结代码").select_option("resolved")
    close.get_by_role("button", name="结束会话").click()
    expect(close).to_be_hidden()
    return openid


def test_a_supervisor_reads_exports_and_switches_language(open_page, sim, artifacts):
    alice = open_page("1280x800", name="alice")
    login(alice, "alice", expect_path="/agent")
    go_available(alice)
    _serve_one(alice, sim, "信用卡账单怎么查")
    _serve_one(alice, sim, "转账限额是多少")
    # A customer who leaves while waiting: alice is away, the customer unsubscribes.
    alice.locator("#presence-away").click()
    expect(alice.locator("#presence-away")).to_have_attribute("aria-pressed", "true")
    gone = f"o_rep_gone_{uuid.uuid4().hex[:6]}"
    sim.send(gone, "有人吗")
    sim.send(gone, kind="unsubscribe")

    sup = open_page("1920x1080", name="super-reports", bypass_csp=True)
    login(sup, "super", expect_path="/supervisor")
    sup.locator("#to-reports").click()
    sup.wait_for_url("**/admin#/reports**")
    expect(sup.locator("#admin-section-title")).to_have_text("报表")
    general = sup.locator('#reports-table tbody tr[data-key="general"]')
    expect(general.locator("th")).to_have_text(re.compile("综合|general|咨询"))
    expect(general.locator('td[data-col="offered"]')).to_have_text("3")
    expect(general.locator('td[data-col="answered"]')).to_have_text("2")
    expect(general.locator('td[data-col="abandoned"]')).to_have_text("1")
    expect(general.locator('td[data-col="transfers"]')).to_have_text("0")
    # The chart is drawn (Chart.js paints the canvas) and says what it shows.
    chart = sup.locator("#reports-chart")
    expect(chart).to_have_attribute("aria-label", re.compile("服务水平"))
    sup.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length === 2")
    alice_row = sup.locator("#reports-agents-table tbody tr", has_text="Alice")
    expect(alice_row.locator('td[data-col="busy_s"]')).not_to_have_text("0 秒")
    expect(alice_row.locator('td[data-col="occupancy"]')).to_have_text(re.compile(r"%$"))

    # By agent: Alice answered both; the one nobody answered has its own row.
    sup.locator("#reports-by").select_option("agent")
    expect(sup.locator("#reports-table tbody th", has_text="Alice")).to_have_count(1)
    expect(sup.locator("#reports-table tbody tr", has_text="Alice").locator('td[data-col="answered"]')).to_have_text("2")
    expect(sup.locator("#reports-table tbody tr", has_text="未接起").locator('td[data-col="abandoned"]')).to_have_text("1")
    assert "by=agent" in sup.url  # the filters are in the address
    save_screenshot(sup, artifacts, "admin-reports-1920x1080", docs_name="admin-reports.png")
    assert not run_axe(sup), "reports section"

    # CSV and XLSX downloads carry the same numbers.
    with sup.expect_download() as download:
        sup.locator("#reports-sessions-csv").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(r["key"] == "", r["offered"], r["answered"], r["abandoned"]) for r in table][-1] == (True, "1", "0", "1")
    assert download.value.suggested_filename.endswith(".csv")
    with sup.expect_download() as download:
        sup.locator("#reports-agents-xlsx").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["agent_id", "name", "available_s"] and "occupancy" in header
    assert "Alice" in [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]

    # In English.
    sup.locator("#lang-switch").click()
    expect(sup.locator("#admin-section-title")).to_have_text("Reports")
    expect(sup.locator("#reports-agents-heading")).to_have_text("Agent states and occupancy")
    expect(sup.locator("#reports-table thead")).to_contain_text("Service level")
    save_screenshot(sup, artifacts, "admin-reports-en-1920x1080")
