"""The admin console (/admin): who lands there, its sections' navigation, and axe on the page.

Each section's own page has its own browser test beside the feature that owns it; this file
covers the shell they share.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import login, run_axe, save_screenshot


def test_admin_and_qa_land_in_the_admin_console_and_supervisors_on_the_wall(open_page, artifacts):
    admin = open_page("1280x800", name="admin-shell", bypass_csp=True)
    login(admin, "admin", expect_path="/admin")
    expect(admin.locator("#admin-nav a[aria-current=page]")).to_have_text("概览")
    expect(admin.locator("#admin-section-title")).to_have_text("概览")
    # The wall is one click away for an admin; the agent workbench is not theirs.
    expect(admin.locator("#admin-consoles").get_by_role("link", name="班长坐席")).to_be_visible()
    expect(admin.locator("#admin-consoles").get_by_role("link", name="坐席工作台")).to_have_count(0)
    save_screenshot(admin, artifacts, "admin-overview-1280x800")
    assert not run_axe(admin), "admin console"
    # An unknown section shows the first one instead of an empty page.
    admin.goto("/admin#/no-such-section")
    expect(admin.locator("#admin-section-title")).to_have_text("概览")

    qa = open_page("1280x800", name="qa-shell")
    login(qa, "qa")
    qa.wait_for_url("**/admin#/qa*")  # QA lands on their work queue
    expect(qa.locator("#admin-nav a[aria-current=page]")).to_have_text("质检工作台")

    sup = open_page("1280x800", name="super-shell")
    login(sup, "super", expect_path="/supervisor")
    sup.goto("/admin")
    expect(sup.locator("body")).to_have_attribute("data-page", "admin")  # supervisors may open it too


def test_an_agent_sent_to_the_admin_console_goes_back_to_the_workbench(open_page):
    agent = open_page("1280x800", name="agent-shell")
    login(agent, "alice", expect_path="/agent")
    agent.goto("/admin")
    agent.wait_for_url("**/agent")
    expect(agent.locator("body")).to_have_attribute("data-page", "agent")
