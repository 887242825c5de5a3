"""The admin console's users and teams pages: create a user, put them in a team, a bad field
refused with the field shown, edits that take effect, axe clean, screenshots."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import expect

from tests.browser.conftest import login, run_axe, save_screenshot


def _api(base: str, path: str, token: str) -> dict:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_create_a_user_put_them_in_a_team_and_refuse_a_bad_field(open_page, artifacts, kefu_server):
    open_page.allow("the server responded with a status of 400")  # the bad values below, on purpose
    open_page.allow("the server responded with a status of 409")
    page = open_page("1280x800", name="admin-users", bypass_csp=True)
    login(page, "admin", expect_path="/admin")

    # Teams first: a team for the new user, with the demo supervisor.
    page.goto("/admin#/teams")
    expect(page.locator("#admin-section-title")).to_have_text("团队")
    page.get_by_label("团队名称").fill("信用卡组")
    page.locator("#team-supervisors").get_by_label("Supervisor (super)").check()
    page.locator("#team-members").get_by_label("Bob (bob)").check()
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#teams-table tr[data-team='信用卡组']")).to_contain_text("Bob")
    # The same name again (whatever its case) is refused with the name field marked.
    page.get_by_role("button", name="新建团队").click()
    page.get_by_label("团队名称").fill("信用卡组")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#team-form-error")).to_contain_text("name")
    expect(page.get_by_label("团队名称")).to_have_attribute("aria-invalid", "true")
    save_screenshot(page, artifacts, "admin-teams-1280x800", docs_name="admin-teams.png")
    assert not run_axe(page), "teams page"

    page.goto("/admin#/users")
    expect(page.locator("#admin-section-title")).to_have_text("用户")
    expect(page.locator("#users-table tr[data-user='alice']")).to_contain_text("general:5")
    page.get_by_label("用户名").fill("erin")
    page.get_by_label("姓名").fill("Erin")
    page.get_by_label("密码（至少 8 位）").fill("erin-password")
    page.get_by_label("技能与等级").fill("general:4, cards:9")  # level 9: out of range
    page.get_by_label("团队").select_option(label="信用卡组")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#user-form-error")).to_contain_text("skills")
    expect(page.get_by_label("技能与等级")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#users-table tr[data-user='erin']")).to_have_count(0)  # nothing was created
    save_screenshot(page, artifacts, "admin-users-refused-1280x800")

    page.get_by_label("技能与等级").fill("general:4, cards:2")
    page.get_by_role("button", name="保存").click()
    row = page.locator("#users-table tr[data-user='erin']")
    expect(row).to_contain_text("general:4, cards:2")
    expect(row).to_contain_text("信用卡组")
    expect(page.locator("#user-form-title")).to_have_text("编辑 erin")

    # Edit: capacity and disabled; the table follows.
    page.get_by_label("最大接待数").fill("5")
    page.get_by_label("已停用（不能登录）").check()
    page.get_by_role("button", name="保存").click()
    expect(row).to_contain_text("停用")
    expect(row.locator("td").nth(3)).to_have_text("5")
    save_screenshot(page, artifacts, "admin-users-1280x800", docs_name="admin-users.png")
    assert not run_axe(page), "users page"

    # What the server now holds, read back through the API.
    token = page.evaluate("() => sessionStorage.getItem('kefu.token')")
    users = {u["username"]: u for u in _api(kefu_server.base, "/api/users", token)["users"]}
    assert users["erin"]["max_sessions"] == 5 and users["erin"]["disabled"] is True
    assert users["erin"]["skills"] == [{"name": "general", "level": 4}, {"name": "cards", "level": 2}]
    teams = {t["name"]: t for t in _api(kefu_server.base, "/api/teams", token)["teams"]}
    assert set(teams["信用卡组"]["members"]) == {users["bob"]["id"], users["erin"]["id"]}
    assert teams["信用卡组"]["supervisors"] == [users["super"]["id"]]
