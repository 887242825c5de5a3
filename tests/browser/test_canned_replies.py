"""Canned replies (快捷回复) in the browser: written in the admin page (a bad shortcut refused with
the field shown, an edit), found in the agent's composer by "/" + shortcut and inserted with
{customer} and {agent} filled in; an agent saves a personal reply from the composer, finds it by
shortcut, and deletes it from the picker. axe on both pages; screenshots in test-artifacts/."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import go_available, login, run_axe, save_screenshot

pytestmark = pytest.mark.browser


def test_a_reply_written_in_the_admin_page_is_inserted_by_the_agent_with_placeholders(open_page, sim, artifacts):
    open_page.allow("the server responded with a status of 400")  # the refused shortcut, on purpose
    admin = open_page("1280x800", name="admin", bypass_csp=True)
    login(admin, "admin", expect_path="/admin")
    admin.goto("/admin#/canned")
    expect(admin.locator("#admin-section-title")).to_have_text("快捷回复")
    form = admin.locator("#canned-form")
    expect(form.get_by_label("范围")).to_have_value("public")

    # A shortcut with a space is refused, with the field marked and said.
    form.get_by_label("快捷词").fill("two words")
    form.get_by_label("内容").fill("您好，{customer}，我是{agent}，很高兴为您服务。")
    form.get_by_role("button", name="保存").click()
    expect(admin.locator("#canned-f-error")).to_have_text("快捷词须为一个词（不含空格和 /），最多 32 个字符。")
    expect(form.get_by_label("快捷词")).to_have_attribute("aria-invalid", "true")
    expect(admin.locator("#canned-table tbody tr")).to_have_count(0)

    form.get_by_label("快捷词").fill("greet")
    form.get_by_label("标题").fill("问候")
    form.get_by_label("分类", exact=True).fill("开场")
    form.get_by_role("button", name="保存").click()
    row = admin.locator("#canned-table tbody tr", has_text="/greet")
    expect(row).to_contain_text("问候")
    expect(row).to_contain_text("公共")
    # A second one in another category, to filter by.
    form.get_by_label("快捷词").fill("bye")
    form.get_by_label("分类", exact=True).fill("结束")
    form.get_by_label("内容").fill("感谢您的咨询，再见！")
    form.get_by_role("button", name="保存").click()
    expect(admin.locator("#canned-table tbody tr")).to_have_count(2)
    admin.get_by_label("分类", exact=True).last.select_option("开场")
    expect(admin.locator("#canned-table tbody tr")).to_have_count(1)
    admin.get_by_label("分类", exact=True).last.select_option("")
    admin.get_by_label("搜索（快捷词、标题或内容）").fill("再见")
    expect(admin.locator("#canned-table tbody tr")).to_have_count(1)
    expect(admin.locator("#canned-table tbody tr")).to_contain_text("/bye")
    admin.get_by_label("搜索（快捷词、标题或内容）").fill("")

    # Edit: the title changes in the list.
    row.get_by_role("button", name="编辑 /greet").click()
    expect(form.get_by_label("快捷词")).to_have_value("greet")
    form.get_by_label("标题").fill("开场问候")
    form.get_by_role("button", name="保存").click()
    expect(row).to_contain_text("开场问候")
    save_screenshot(admin, artifacts, "admin-canned-1280x800")
    assert not run_axe(admin), "admin canned replies"

    # The agent's picker has it: "/gre" finds it, Enter inserts it with the names filled in.
    alice = open_page("1280x800", name="alice", bypass_csp=True)
    login(alice, "alice", expect_path="/agent")
    go_available(alice)
    openid = f"o_canned_{uuid.uuid4().hex[:8]}"
    sim.send(openid, "你好")
    alice.locator(".offer-card", has_text=openid).get_by_role("button", name=re.compile("^接入")).click()
    expect(alice.locator("#conv-meta")).to_contain_text(openid)
    expect(alice.locator("#conv-title")).not_to_have_text(openid)  # the WeChat nickname has arrived
    nickname = alice.locator("#conv-title").inner_text().strip()
    composer = alice.locator("#composer-input")
    composer.fill("/gre")
    expect(alice.locator("#canned .canned-item")).to_have_count(1)
    expect(alice.locator("#canned")).to_contain_text("开场问候")
    composer.press("Enter")
    expect(composer).to_have_value(f"您好，{nickname}，我是Alice，很高兴为您服务。")
    # The picker's search box and categories find it too.
    composer.fill("")
    alice.get_by_role("button", name="快捷回复", exact=True).click()
    dialog = alice.locator("#canned-dialog")
    expect(dialog.locator(".canned-result")).to_have_count(2)
    dialog.get_by_label("分类").select_option("结束")
    expect(dialog.locator(".canned-result")).to_have_count(1)
    dialog.get_by_role("button", name="插入 /bye").click()
    expect(dialog).to_be_hidden()
    expect(composer).to_have_value("感谢您的咨询，再见！")


def test_an_agent_saves_a_personal_reply_from_the_composer_and_finds_it_by_shortcut(open_page, sim, artifacts):
    open_page.allow("the server responded with a status of 400")  # the refused shortcut, on purpose
    bob = open_page("1280x800", name="bob", bypass_csp=True)
    login(bob, "bob", expect_path="/agent")
    go_available(bob)
    openid = f"o_mine_{uuid.uuid4().hex[:8]}"
    sim.send(openid, "我的卡被冻结了")
    bob.locator(".offer-card", has_text=openid).get_by_role("button", name=re.compile("^接入")).click()
    expect(bob.locator("#conv-meta")).to_contain_text(openid)
    composer = bob.locator("#composer-input")
    composer.fill("{customer}，请您提供卡号后四位，{agent}马上为您查询。")

    bob.get_by_role("button", name="存为快捷回复").click()
    dialog = bob.locator("#canned-save-dialog")
    expect(dialog.get_by_label("内容")).to_have_value("{customer}，请您提供卡号后四位，{agent}马上为您查询。")
    # A shortcut of 33 characters is refused in the dialog, naming the field.
    dialog.get_by_label("快捷词").fill("k" * 33)
    dialog.get_by_role("button", name="保存").click()
    expect(dialog.locator("#canned-save-error")).to_have_text("快捷词须为一个词（不含空格和 /），最多 32 个字符。")
    expect(dialog.get_by_label("快捷词")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_label("快捷词").fill("card4")
    dialog.get_by_label("标题").fill("问卡号")
    dialog.get_by_label("分类").fill("信用卡")
    save_screenshot(bob, artifacts, "agent-canned-save-1280x800")
    assert not run_axe(bob), "save as canned reply"
    dialog.get_by_role("button", name="保存").click()
    expect(dialog).to_be_hidden()
    expect(bob.locator("#toasts")).to_contain_text("已保存快捷回复 /card4。")

    composer.fill("/card4")
    expect(bob.locator("#canned .canned-item")).to_have_count(1)
    composer.press("Enter")
    expect(composer).not_to_have_value(re.compile(r"\{(customer|agent)\}"))
    expect(composer).to_have_value(re.compile(r"，请您提供卡号后四位，Bob马上为您查询。$"))

    # It survives a reload (it is stored), and its owner deletes it from the picker.
    bob.reload()
    expect(bob.locator("#conv-meta")).to_contain_text(openid)
    bob.get_by_role("button", name="快捷回复", exact=True).click()
    picker = bob.locator("#canned-dialog")
    picker.get_by_label("搜索（快捷词、标题或内容）").fill("card4")
    expect(picker.locator(".canned-result")).to_have_count(1)
    expect(picker.locator(".canned-result")).to_contain_text("个人")
    save_screenshot(bob, artifacts, "agent-canned-picker-1280x800")
    assert not run_axe(bob), "canned reply picker"
    bob.once("dialog", lambda d: d.accept())
    picker.get_by_role("button", name="删除 /card4").click()
    expect(picker.locator(".canned-result")).to_have_count(0)
    expect(picker.locator("#canned-results-empty")).to_be_visible()
