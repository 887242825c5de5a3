"""The admin console's bot knowledge base (客服机器人), in Chromium against the demo server: an
answer without text refused with its field marked, an answer created and edited, "try a question"
showing the match explanation for a paraphrase. axe on the section; a screenshot looked at."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import login, run_axe, save_screenshot


def test_create_refuse_edit_and_try_a_question(open_page, artifacts):
    admin = open_page("1280x800", name="admin-bot", bypass_csp=True)
    open_page.allow("status of 400")  # the refused save, on purpose
    login(admin, "admin", expect_path="/admin")
    admin.goto("/admin#/bot")
    expect(admin.locator("#admin-section-title")).to_have_text("客服机器人")

    admin.locator("#bot-f-question").fill("信用卡年费怎么免")
    admin.locator("#bot-f-similar").fill("信用卡年费可以减免吗")
    admin.locator("#bot-f-keywords").fill("年费")
    admin.locator("#bot-f-submit").click()  # no answer: refused, the field named and marked
    expect(admin.locator("#bot-f-error")).to_contain_text("答案")
    expect(admin.locator("#bot-f-answer")).to_have_attribute("aria-invalid", "true")
    expect(admin.locator("#bot-table tbody tr")).to_have_count(0)

    admin.locator("#bot-f-answer").fill("刷卡满6次免年费。")
    admin.locator("#bot-f-submit").click()
    expect(admin.locator("#bot-table tbody tr")).to_have_count(1)
    admin.get_by_role("button", name="编辑 信用卡年费怎么免").click()
    admin.locator("#bot-f-answer").fill("刷卡满6次即可免次年年费。")
    admin.locator("#bot-f-submit").click()
    expect(admin.locator("#bot-table tbody tr td").nth(2)).to_have_text("刷卡满6次即可免次年年费。")

    admin.locator("#bot-try-question").fill("年费能不能免掉")
    admin.locator("#bot-try-submit").click()
    expect(admin.locator("#bot-try-verdict")).to_contain_text("刷卡满6次即可免次年年费。")
    expect(admin.locator("#bot-try-candidates li").first).to_contain_text("matched 年费 免")
    save_screenshot(admin, artifacts, "admin-bot-1280x800")
    assert not run_axe(admin), "bot knowledge base"
