"""The admin console's transcripts section: QA's first page, in Chromium against the demo server.

A customer writes through the simulator; QA signs in, lands on the transcripts, finds the session
by a word of its text and opens its transcript. axe on the page;
a screenshot looked at.
"""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.browser.conftest import login, run_axe, save_screenshot


def test_qa_lands_on_transcripts_finds_a_session_by_its_text_and_opens_it(open_page, sim, artifacts):
    openid = f"o_tr_{uuid.uuid4().hex[:8]}"
    word = f"挂失{uuid.uuid4().hex[:4]}"
    sim.send(openid, f"我的信用卡丢了，要{word}")

    qa = open_page("1280x800", name="qa-transcripts", bypass_csp=True)
    login(qa, "qa", expect_path="/admin")
    expect(qa.locator("#admin-section-title")).to_have_text("会话记录")
    expect(qa.locator("#tr-table tbody tr[data-session-id]")).not_to_have_count(0)

    qa.locator("#tr-q").fill(word)
    qa.get_by_role("button", name="搜索").click()
    row = qa.locator("#tr-table tbody tr[data-session-id]")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_attribute("title", openid)
    row.get_by_role("button").click()
    expect(qa.locator("#tr-transcript")).to_be_visible()
    expect(qa.locator("#tr-messages")).to_contain_text(word)
    assert word in qa.url or "q=" in qa.url  # the search is in the address
    save_screenshot(qa, artifacts, "admin-transcripts-1280x800", docs_name="admin-transcripts.png")
    assert not run_axe(qa), "transcripts section"
