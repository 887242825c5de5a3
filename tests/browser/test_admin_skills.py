"""The admin console's "skills" section (static/js/admin/skills.js): create a skill with business
hours, a bad value refused with the error beside its field, priority rules, axe, screenshots."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import expect

from tests.browser.conftest import login, run_axe, save_screenshot


def _skills(base: str, token: str) -> dict:
    req = urllib.request.Request(base + "/api/skills", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return {s["name"]: s for s in json.loads(res.read())["skills"]}


def test_an_admin_creates_a_skill_with_hours_and_sees_a_bad_value_refused(open_page, kefu_server, artifacts):
    open_page.allow("the server responded with a status of 400")  # the refused values, on purpose
    page = open_page("1280x800", name="admin-skills", bypass_csp=True)
    login(page, "admin", expect_path="/admin")
    page.goto("/admin#/skills")
    expect(page.locator("#admin-section-title")).to_have_text("技能组与服务时间")
    expect(page.locator("#skills-table tr[data-skill=general]")).to_contain_text("综合咨询")

    page.get_by_role("button", name="新建技能组").click()
    editor = page.locator(".skill-editor")
    editor.get_by_label("名称（代码）").fill("wealth")
    editor.get_by_label("显示名称（中文）").fill("理财")
    editor.get_by_label("显示名称（英文）").fill("Wealth")
    editor.get_by_label("分配策略").select_option("best_skill")
    editor.get_by_label("最长排队（秒）").fill("600")
    editor.get_by_label("溢出到").select_option("general")
    editor.get_by_label("排队多久后溢出（秒）").fill("90")
    editor.get_by_label("全天候服务").uncheck()
    editor.get_by_label("时区").fill("Asia/Shanghai")
    editor.get_by_label("周一").fill("09:00-12:00, 13:00-25:00")  # 25:00 is no time of day
    editor.get_by_label("周六").fill("10:00-16:00")
    editor.get_by_label("节假日（全天不服务）").fill("2026-10-01, 2026-10-02")
    editor.get_by_label("调休上班日").fill("2026-09-27")
    editor.get_by_role("button", name="保存").click()

    monday = editor.locator('.field[data-field="hours.weekly.mon"]')
    expect(monday.locator(".field-error")).to_contain_text("25:00")
    expect(monday.locator("input")).to_have_attribute("aria-invalid", "true")
    expect(editor.locator(".form-error")).to_be_visible()
    save_screenshot(page, artifacts, "admin-skills-refused-1280x800")
    token = page.evaluate("sessionStorage.getItem('kefu.token')")
    assert "wealth" not in _skills(kefu_server.base, token)  # refused: nothing kept

    editor.get_by_label("周一").fill("09:00-12:00, 13:00-18:00")
    editor.get_by_role("button", name="保存").click()
    expect(page.locator("#skills-table tr[data-skill=wealth]")).to_contain_text("理财")
    expect(monday.locator(".field-error")).to_be_hidden()
    saved = _skills(kefu_server.base, token)["wealth"]
    office = [["09:00", "18:00"]]  # a new skill's week starts as Monday to Friday, 09:00-18:00
    assert saved["hours"] == {"timezone": "Asia/Shanghai",
                              "weekly": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "tue": office, "wed": office,
                                         "thu": office, "fri": office, "sat": [["10:00", "16:00"]]},
                              "holidays": ["2026-10-01", "2026-10-02"], "workdays": ["2026-09-27"]}
    assert (saved["strategy"], saved["max_wait_s"], saved["overflow"]) == ("best_skill", 600, {"to": "general",
                                                                                                "after_s": 90})
    assert saved["labels"] == {"zh-CN": "理财", "en": "Wealth"}

    # A priority rule with a priority out of range is refused beside that rule.
    rules = page.locator(".priority-rules")
    page.get_by_role("button", name="添加规则").click()
    rules.locator(".priority-rule").nth(1).get_by_label("客户标签").fill("gold")
    rules.locator(".priority-rule").nth(1).get_by_label("优先级").fill("500")
    page.locator("#priority-rules-title ~ form").get_by_role("button", name="保存").click()
    expect(rules.locator(".priority-rule").nth(1).locator('.field[data-field="priority"] .field-error')).to_be_visible()
    rules.locator(".priority-rule").nth(1).get_by_label("优先级").fill("30")
    page.locator("#priority-rules-title ~ form").get_by_role("button", name="保存").click()
    expect(rules.locator(".field-error:visible")).to_have_count(0)
    expect(page.locator(".toast").last).to_contain_text("优先级规则已保存")

    page.locator("#skills-table tr[data-skill=wealth]").get_by_role("button").click()
    expect(editor.get_by_label("周六")).to_have_value("10:00-16:00")
    save_screenshot(page, artifacts, "admin-skills-1280x800", docs_name="admin-skills.png")
    assert not run_axe(page), "skills section"


def test_the_skills_page_in_english_shows_the_english_labels(open_page):
    page = open_page("1280x800", name="admin-skills-en")
    page.add_init_script("localStorage.setItem('kefu.lang', 'en')")
    page.goto("/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("admin123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin")
    page.goto("/admin#/skills")
    expect(page.locator("#skills-table tr[data-skill=cards]")).to_contain_text("Credit cards")
    expect(page.locator("#skills-table tr[data-skill=cards]")).to_contain_text("Always open")
