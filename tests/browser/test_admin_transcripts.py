"""The transcript search (会话记录) for QA, in Chromium against the demo server.

Alice serves and closes one customer's session (wrap-up ``resolved``), QA scores it; a second
customer with the same words waits in the queue. QA signs in (landing on the QA work queue),
opens the transcripts, finds both by a word of their text, narrows by wrap-up code and by CSAT,
opens the closed one (its transcript and its QA review show) and exports it as a text file for a
complaint file. axe on the page; a screenshot looked at.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORDS, go_available, login, run_axe, save_screenshot

pytestmark = pytest.mark.browser


def _api(base: str, path: str, token: str | None = None, body: Any = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=json.dumps(body).encode() if body is not None else None,
                                 headers=headers, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read() or b"{}")


def _token(base: str, username: str) -> str:
    return _api(base, "/api/auth/login", body={"username": username, "password": DEMO_PASSWORDS[username]})["token"]


def test_qa_finds_filters_opens_and_exports_a_transcript(open_page, sim, artifacts, kefu_server):
    word = f"挂失{uuid.uuid4().hex[:4]}"
    alice = open_page("1280x800", name="alice-tr")
    login(alice, "alice", expect_path="/agent")
    go_available(alice)
    sim.send(f"o_tr_{uuid.uuid4().hex[:8]}", f"我的信用卡丢了，要{word}")
    alice.locator(".offer-card").get_by_role("button", name=re.compile("^接入")).click()
    session_id = alice.locator(".session-item").first.get_attribute("data-session-id")
    alice.locator("#composer-input").fill("已为您办理挂失。")
    alice.locator("#composer-input").press("Enter")
    expect(alice.locator("#messages .msg-out .msg-status")).to_have_text("已送达")
    alice.locator("#btn-close").click()
    alice.locator("#close-dialog").get_by_label("小结代码").select_option("resolved")
    alice.locator("#close-dialog").get_by_role("button", name="结束会话").click()
    expect(alice.locator("#close-dialog")).to_be_hidden()
    alice.locator("#presence-away").click()
    expect(alice.locator("#presence-away")).to_have_attribute("aria-pressed", "true")
    waiting = f"o_tr_{uuid.uuid4().hex[:8]}"
    sim.send(waiting, f"也要{word}")
    base = kefu_server.base
    rubric = _api(base, "/api/qa/rubrics", _token(base, "admin"), {"name": f"标准{word}", "criteria": [
        {"key": "service", "label": "服务", "weight": 100, "max": 10}]})
    _api(base, "/api/qa/reviews", _token(base, "qa"), {"session_id": session_id, "rubric_id": rubric["id"],
                                                       "scores": {"service": 9}, "comment": "处理得当"})

    qa = open_page("1280x800", name="qa-transcripts", bypass_csp=True)
    login(qa, "qa")
    qa.wait_for_url(re.compile(r"/admin#/qa"))  # QA lands on their work queue
    qa.get_by_role("link", name="会话记录").click()
    expect(qa.locator("#admin-section-title")).to_have_text("会话记录")
    qa.locator("#tr-q").fill(word)
    qa.get_by_role("button", name="搜索").click()
    rows = qa.locator("#tr-table tbody tr[data-session-id]")
    expect(rows).to_have_count(2)
    qa.locator("#tr-wrapup").select_option("resolved")
    qa.get_by_role("button", name="搜索").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-session-id", session_id)
    expect(rows.first).to_contain_text("已解决")
    assert "wrapup=resolved" in qa.url  # the search is in the address
    qa.locator("#tr-csat").select_option("low")
    qa.get_by_role("button", name="搜索").click()
    expect(qa.locator("#tr-table tbody")).to_contain_text("没有符合条件的会话")  # nobody answered a survey
    qa.locator("#tr-csat").select_option("")
    qa.get_by_role("button", name="搜索").click()
    expect(rows).to_have_count(1)

    rows.first.get_by_role("button").click()
    expect(qa.locator("#tr-messages")).to_contain_text(word)
    expect(qa.locator("#tr-reviews .qa-review")).to_contain_text("总分 90")
    expect(qa.locator("#tr-reviews .qa-review")).to_contain_text("处理得当")
    expect(qa.locator("#tr-tools").get_by_role("link", name="质检评分")).to_have_attribute("href", f"#/qa?session={session_id}")
    with qa.expect_download() as download:
        qa.locator('#tr-tools [data-export="txt"]').click()
    assert download.value.suggested_filename == f"transcript-{session_id}.txt"
    text = open(download.value.path(), encoding="utf-8").read()
    assert f"session: {session_id}" in text and word in text and "已为您办理挂失。" in text and "wrapup: resolved" in text
    save_screenshot(qa, artifacts, "admin-transcripts-1280x800", docs_name="admin-transcripts.png")
    assert not run_axe(qa), "transcripts section"
    exports = _api(base, f"/api/audit?action=session.export&session_id={session_id}", _token(base, "admin"))
    assert [e["details"]["format"] for e in exports["entries"]] == ["txt"]
