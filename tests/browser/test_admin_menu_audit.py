"""The admin console's WeChat menu editor and audit log, in Chromium against the demo server.

Build a menu (buttons, a sub-menu, a skill key, a link), see a bad value refused with its field
marked, save, publish, and see the menu under a phone in the simulator page; then find the
publication in the audit log with a filter. axe on both sections; screenshots looked at.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import login, run_axe, save_screenshot


def test_build_a_menu_refuse_a_bad_link_publish_and_see_it_in_the_simulator(open_page, artifacts):
    admin = open_page("1280x800", name="admin-menu", bypass_csp=True)
    open_page.allow("status of 400")  # the refused save, on purpose
    login(admin, "admin", expect_path="/admin")
    admin.goto("/admin#/menu")
    expect(admin.locator("#admin-section-title")).to_have_text("自定义菜单")
    expect(admin.locator("#menu-status")).to_contain_text("尚未发布")

    # Button 1: a click that routes to the cards skill.
    admin.locator("#menu-add").click()
    admin.locator("#menu-f-button-0-name").fill("信用卡")
    admin.locator("#menu-f-button-0-key").fill("skill:cards")
    # Button 2: opens sub-buttons: a link and a click.
    admin.locator("#menu-add").click()
    admin.locator("#menu-f-button-1-name").fill("更多")
    admin.locator("#menu-f-button-1-type").select_option("parent")
    admin.locator("#menu-f-button-1-sub-button-0-name").fill("网上银行")
    admin.locator("#menu-f-button-1-sub-button-0-type").select_option("view")
    admin.locator("#menu-f-button-1-sub-button-0-url").fill("ftp://bank.example.com")
    admin.locator(".menu-add-sub").click()
    admin.locator("#menu-f-button-1-sub-button-1-name").fill("贷款咨询")
    admin.locator("#menu-f-button-1-sub-button-1-key").fill("skill:loans")
    # Reorder: the sub-menu first.
    admin.get_by_role("button", name="上移 更多").click()
    expect(admin.locator(".wx-bar .wx-button").first).to_have_text("≡ 更多")

    # A link that is not http(s): refused by the server, the field named and marked, nothing saved.
    admin.locator("#menu-save").click()
    expect(admin.locator("#menu-error")).to_contain_text("button[0].sub_button[0].url")
    bad = admin.locator("#menu-f-button-0-sub-button-0-url")
    expect(bad).to_have_attribute("aria-invalid", "true")
    expect(bad).to_be_focused()
    save_screenshot(admin, artifacts, "admin-menu-refused-1280x800")
    expect(admin.locator("#menu-status")).to_contain_text("已保存：第 0 版")

    bad.fill("https://bank.example.com/ebank")
    admin.locator("#menu-save").click()
    expect(admin.locator("#menu-status")).to_contain_text("已保存：第 1 版")
    admin.locator("#menu-publish").click()
    expect(admin.locator("#menu-status")).to_contain_text("已发布：第 1 版")
    admin.locator(".wx-bar .wx-button").first.click()  # the preview opens the sub-menu
    expect(admin.locator(".wx-pop li")).to_have_text(["网上银行", "贷款咨询"])
    save_screenshot(admin, artifacts, "admin-menu-1280x800", docs_name="admin-menu.png")
    assert not run_axe(admin), "menu editor"

    # The simulator page shows the published menu under each phone; a tap sends its event.
    sim = open_page("1280x800", name="simulator")
    sim.goto("/simulator")
    phone = sim.locator(".phone").first
    expect(phone.locator(".phone-menu > .menu-cell > button")).to_have_text(["≡ 更多", "信用卡"])
    phone.locator(".phone-menu > .menu-cell > button").first.click()
    phone.get_by_role("button", name="网上银行").click()
    expect(phone.locator(".msg.event").last).to_contain_text("打开了菜单链接 · 网上银行")
    phone.locator(".phone-menu > .menu-cell > button").nth(1).click()
    expect(phone.locator(".msg.event").last).to_contain_text("点击了菜单 · 信用卡")
    save_screenshot(sim, artifacts, "simulator-menu-1280x800")


def test_the_audit_log_filters_by_action_and_pages(open_page, artifacts):
    admin = open_page("1280x800", name="admin-audit", bypass_csp=True)
    login(admin, "admin", expect_path="/admin")
    admin.goto("/admin#/audit")
    expect(admin.locator("#admin-section-title")).to_have_text("审计日志")
    expect(admin.locator("#audit-table tbody tr").first).to_be_visible()

    admin.locator("#audit-action").fill("menu_published")
    admin.get_by_role("button", name="筛选").click()
    rows = admin.locator("#audit-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-action", "menu_published")
    expect(rows.first).to_contain_text("menu")
    assert "action=menu_published" in admin.url  # the filtered view has an address
    save_screenshot(admin, artifacts, "admin-audit-1280x800", docs_name="admin-audit.png")
    assert not run_axe(admin), "audit log"

    admin.locator("#audit-action").fill("setting_changed")
    admin.locator("#audit-to").fill("2000-01-01")  # before anything happened
    admin.get_by_role("button", name="筛选").click()
    expect(admin.locator("#audit-table tbody")).to_contain_text("没有符合筛选条件的记录")
    expect(admin.locator("#audit-next")).to_be_disabled()
    admin.get_by_role("button", name="清除").click()
    expect(admin.locator("#audit-table tbody tr[data-action]").first).to_be_visible()
