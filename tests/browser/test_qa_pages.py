"""QA (质检) through the pages, in Chromium against the demo server: the admin writes a rubric (a
wrong weight sum is refused in the page), Alice serves and closes a session, QA lands on their
work queue, scores the session beside its transcript (a score above the maximum is refused,
then the total and the verdict show), Alice acknowledges the review in 我的质检, and the results
page shows her average. axe on each page; screenshots looked at."""

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


def test_rubric_review_acknowledge_and_results(open_page, sim, artifacts, kefu_server):
    open_page.allow("status of 400")  # the wrong weight sum and the score above its maximum, on purpose
    # The admin writes a rubric in the page: weights that do not add up are refused, named.
    admin = open_page("1280x800", name="admin-qa", bypass_csp=True)
    login(admin, "admin", expect_path="/admin")
    admin.goto("/admin#/qa_rubrics")
    expect(admin.locator("#admin-section-title")).to_have_text("评分表与抽检")
    admin.locator("#rubric-name").fill("电话服务标准")
    admin.locator("#rubric-pass").fill("80")
    first_weight = admin.locator("#rubric-criteria tr").first.locator("[name=weight]")
    first_weight.fill("40")
    expect(admin.locator("#rubric-weight-sum")).to_contain_text("110 / 100")
    admin.locator("#rubric-save").click()
    expect(admin.locator("#rubric-error")).to_contain_text("add up to 100")
    expect(admin.locator("#rubric-criteria")).to_be_visible()
    first_weight.fill("30")
    expect(admin.locator("#rubric-weight-sum")).to_contain_text("100 / 100")
    admin.locator("#rubric-save").click()
    row = admin.locator('#rubrics-table tr[data-rubric="电话服务标准"]')
    expect(row).to_contain_text("v1")
    expect(row).to_contain_text("问候规范 30%")
    expect(admin.locator("#sampling-form")).to_be_visible()
    save_screenshot(admin, artifacts, "admin-qa-rubrics-1280x800", docs_name="admin-qa-rubrics.png")
    assert not run_axe(admin), "rubrics section"

    # Alice serves a customer and closes the session.
    alice = open_page("1280x800", name="alice-qa", bypass_csp=True)
    login(alice, "alice", expect_path="/agent")
    go_available(alice)
    openid = f"o_qa_{uuid.uuid4().hex[:8]}"
    sim.send(openid, "我要投诉，年费被重复扣了")
    alice.locator(".offer-card").get_by_role("button", name=re.compile("^接入")).click()
    expect(alice.locator("#messages .msg-in")).to_contain_text(["我要投诉，年费被重复扣了"])
    session_id = alice.locator(".session-item").first.get_attribute("data-session-id")
    alice.locator("#composer-input").fill("非常抱歉，已为您申请退还重复扣除的年费。")
    alice.locator("#composer-input").press("Enter")
    expect(alice.locator("#messages .msg-out .msg-status")).to_have_text("已送达")
    alice.locator("#btn-close").click()
    close = alice.locator("#close-dialog")
    close.get_by_label("小结代码").select_option("resolved")
    close.get_by_role("button", name="结束会话").click()
    expect(close).to_be_hidden()
    qa_token = _token(kefu_server.base, "qa")
    _api(kefu_server.base, "/api/qa/queue", qa_token, {"session_id": session_id})  # QA picks it by hand

    # QA lands on the work queue and scores the session beside its transcript.
    qa = open_page("1280x800", name="qa", bypass_csp=True)
    login(qa, "qa")
    qa.wait_for_url(re.compile(r"/admin#/qa"))
    expect(qa.locator("#admin-section-title")).to_have_text("质检工作台")
    item = qa.locator(f'#qa-queue tr[data-session-id="{session_id}"]')
    expect(item).to_contain_text("手动加入")
    expect(item).to_contain_text("Alice")
    item.get_by_role("link", name=re.compile("评分")).click()
    expect(qa.locator("#qa-transcript")).to_contain_text("年费被重复扣了")
    qa.get_by_label(re.compile("^问候规范")).fill("5")
    qa.get_by_label(re.compile("^业务准确")).fill("11")  # above its maximum of 10
    qa.get_by_label(re.compile("^结束语")).fill("4")
    qa.locator("#qa-comment").fill("致歉及时，处理正确")
    qa.locator("#qa-submit").click()
    expect(qa.locator("#qa-review-error")).to_contain_text("scores.accuracy")
    expect(qa.get_by_label(re.compile("^业务准确"))).to_have_attribute("aria-invalid", "true")
    qa.get_by_label(re.compile("^业务准确")).fill("8")
    expect(qa.locator("#qa-live-total")).to_contain_text("86")
    qa.locator("#qa-submit").click()
    # (30·5/5 + 50·8/10 + 20·4/5) ÷ 100 × 100 = 30 + 40 + 16
    expect(qa.locator("#qa-result")).to_contain_text("总分 86")
    expect(qa.locator("#qa-result")).to_contain_text("合格")
    expect(qa.locator("#qa-past-reviews .qa-review")).to_have_count(1)
    save_screenshot(qa, artifacts, "admin-qa-review-1280x800", docs_name="admin-qa-review.png")
    assert not run_axe(qa), "review page"
    qa.goto("/admin#/qa?view=mine&status=done")
    expect(qa.locator(f'#qa-queue tr[data-session-id="{session_id}"]')).to_contain_text("查看")
    save_screenshot(qa, artifacts, "admin-qa-queue-1280x800", docs_name="admin-qa-queue.png")

    # Alice sees the review in 我的质检 and acknowledges it.
    alice.reload()
    expect(alice.locator("#my-reviews-count")).to_have_text("1")
    alice.locator("#my-reviews-open").click()
    dialog = alice.locator("#my-reviews-dialog")
    card = dialog.locator(".qa-review")
    expect(card).to_contain_text("总分 86")
    expect(card).to_contain_text("致歉及时，处理正确")
    save_screenshot(alice, artifacts, "agent-my-reviews-1280x800", docs_name="agent-my-reviews.png")
    card.get_by_label("备注").fill("收到，谢谢")
    card.get_by_role("button", name="确认").click()
    expect(dialog.locator(".qa-review")).to_have_attribute("data-status", "acknowledged")
    expect(dialog.locator(".qa-review")).to_contain_text("收到，谢谢")
    expect(alice.locator("#my-reviews-count")).to_be_hidden()
    save_screenshot(alice, artifacts, "agent-my-reviews-acknowledged-1280x800")
    assert not run_axe(alice), "my reviews"
    reviews = _api(kefu_server.base, f"/api/qa/reviews?session_id={session_id}", _token(kefu_server.base, "alice"))
    assert [r["status"] for r in reviews["reviews"]] == ["acknowledged"]

    # The results page shows her average and the acknowledged review.
    qa.goto("/admin#/qa_results")
    expect(qa.locator("#admin-section-title")).to_have_text("质检结果")
    qa.locator("#qar-status").select_option("acknowledged")
    qa.get_by_role("button", name="搜索").click()
    expect(qa.locator("#qa-by-agent tr", has_text="Alice")).to_contain_text("86")
    expect(qa.locator("#qa-review-list .qa-review")).to_contain_text("收到，谢谢")
    save_screenshot(qa, artifacts, "admin-qa-results-1280x800", docs_name="admin-qa-results.png")
    assert not run_axe(qa), "results page"
