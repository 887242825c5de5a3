"""The admin console's bot knowledge base (客服机器人), in Chromium against the demo server: an
answer without text refused with its field marked, an answer created and edited, "try a question"
showing the match explanation for a paraphrase and the "did you mean" choices for a vague one; an
import whose broken row is named (row and column) with nothing imported, then a good file
previewed and imported; usage counts (used, handed over) after customers talk to the bot through
the simulator, sortable; the bot's passive reply in the simulator's chat. axe on the section;
screenshots looked at."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import login, run_axe, save_screenshot, wait_until

BROKEN = "问题,相似问题,答案\n信用卡丢了怎么挂失,卡片遗失如何办理挂失,请立即拨打客服热线挂失。\n怎么提高信用卡额度,申请提额,\n"
GOOD = ("\ufeff问题,相似问题,关键词,答案\n信用卡丢了怎么挂失,卡片遗失如何办理挂失,挂失,请立即拨打客服热线挂失。\n"
        "怎么提高信用卡额度,申请提额|信用额度能调高吗,\"额度,提额\",用卡满6个月可申请提额。\n")


def _csv(name: str, text: str) -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}


def test_create_edit_try_import_and_usage_counts(open_page, artifacts, sim):
    admin = open_page("1280x800", name="admin-bot", bypass_csp=True)
    open_page.allow("status of 400")  # the refused save and the refused import, on purpose
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

    # Import: a broken row is named and nothing is imported; then a good file, previewed first.
    admin.locator("#bot-import-file").set_input_files(_csv("broken.csv", BROKEN))
    admin.locator("#bot-import-preview").click()
    expect(admin.locator("#bot-import-error")).to_contain_text("row 3, column C (answer)")
    expect(admin.locator("#bot-import-file")).to_have_attribute("aria-invalid", "true")
    expect(admin.locator("#bot-import-go")).to_be_hidden()
    save_screenshot(admin, artifacts, "admin-bot-import-refused-1280x800")
    admin.locator("#bot-import-file").set_input_files(_csv("good.csv", GOOD))
    admin.locator("#bot-import-preview").click()
    expect(admin.locator("#bot-import-summary")).to_contain_text("共 2 行：新增 2 条，替换 0 条")
    expect(admin.locator("#bot-import-table tbody tr")).to_have_count(2)
    expect(admin.locator("#bot-table tbody tr")).to_have_count(1)  # a preview changes nothing
    save_screenshot(admin, artifacts, "admin-bot-import-preview-1280x800")
    admin.locator("#bot-import-go").click()
    expect(admin.locator("#bot-table tbody tr")).to_have_count(3)
    expect(admin.locator("#bot-import-summary")).to_have_count(0)

    admin.locator("#bot-try-question").fill("信用卡")
    admin.locator("#bot-try-submit").click()
    expect(admin.locator("#bot-try-verdict")).to_contain_text("会请客户选择")

    # Customers talk to the bot (the general skill set to bot first): usage shows on the page.
    status = admin.evaluate("""async () => (await fetch('/api/skills/general', {method: 'PUT',
        headers: {'Content-Type': 'application/json', Authorization: 'Bearer ' + sessionStorage.getItem('kefu.token')},
        body: JSON.stringify({mode: 'bot_first'})})).status""")
    assert status == 200
    for openid in ("o-b1", "o-b2"):
        sim.send(openid, "卡片丢了怎么挂失")
    sim.send("o-b2", "转人工")
    sim.send("o-b3", "年费可以减免吗")
    wait_until(lambda: len([r for r in sim.replies("o-b2") if r.get("kind") in ("api", "passive")]) >= 2,
               what="the bot's answer and its hand-over text")
    wait_until(lambda: sim.replies("o-b3"), what="the bot's answer to o-b3")
    admin.reload()
    lost = admin.locator("#bot-table tbody tr", has_text="信用卡丢了怎么挂失")
    expect(lost.locator(".bot-used")).to_have_text("2")
    expect(lost.locator(".bot-handed")).to_have_text("1（50%）")
    admin.locator("#bot-sort-used").click()
    expect(admin.locator("#bot-table tbody tr").first.locator("th")).to_have_text("信用卡丢了怎么挂失")
    expect(admin.locator("#bot-sort-used").locator("xpath=..")).to_have_attribute("aria-sort", "descending")
    save_screenshot(admin, artifacts, "admin-bot-1280x800", docs_name="admin-bot.png")
    assert not run_axe(admin), "bot knowledge base"

    # In the simulator the bot's passive reply reads like any message from the account.
    simulator = open_page("1280x800", name="simulator-bot")
    simulator.goto("/simulator/")
    phone = simulator.locator(".phone").first
    phone.locator('input[name="text"]').fill("年费可以减免吗")
    phone.locator('input[name="text"]').press("Enter")
    expect(phone.locator(".phone-chat .msg.in.passive .bubble")).to_have_text("刷卡满6次即可免次年年费。")
    save_screenshot(simulator, artifacts, "simulator-bot-passive-1280x800")
