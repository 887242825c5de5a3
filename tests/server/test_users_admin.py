"""Users administered through the API, end to end: every bad field refused by name and nothing
changed, a password reset, and skills and capacity that reach the routing engine at once."""

from __future__ import annotations

import pytest

PASSWORD = "a-long-password"


async def _audit_count(api, token: str) -> int:
    code, data = await api("/api/audit?limit=200", token=token)
    assert code == 200
    return len(data["entries"])


@pytest.mark.gen_test(timeout=60)
async def test_create_edit_disable_and_reset_with_bad_fields_refused(api, login) -> None:
    admin_token, admin = await login("admin")
    code, user = await api("/api/users", "POST", {"username": "dave", "password": PASSWORD, "name": "Dave",
                                                  "roles": ["agent"], "skills": [{"name": "cards", "level": 2}],
                                                  "max_sessions": 2}, token=admin_token)
    assert code == 201 and "password" not in user and "password_hash" not in user
    path = f"/api/users/{user['id']}"
    before = await api(path, token=admin_token)
    audited = await _audit_count(api, admin_token)
    bad = [
        ({"max_sessions": 0}, "max_sessions"),
        ({"max_sessions": "3"}, "max_sessions"),
        ({"skills": [{"name": "cards", "level": 6}]}, "skills"),
        ({"skills": [{"name": "卡 片", "level": 3}]}, "skills"),
        ({"roles": ["boss"]}, "roles"),
        ({"roles": []}, "roles"),
        ({"name": ""}, "name"),
        ({"password": "short"}, "password"),
        ({"disabled": "yes"}, "disabled"),
        ({"username": "other"}, "username"),
        ({}, "body"),
    ]
    for body, field in bad:
        code, answer = await api(path, "PATCH", body, token=admin_token)
        assert (code, answer["error"]["code"]) == (400, "bad_field"), (body, answer)
        assert answer["error"]["message"].startswith(field), (body, answer)
    # An admin cannot lock themselves out.
    for body, field in (({"disabled": True}, "disabled"), ({"roles": ["supervisor"]}, "roles")):
        code, answer = await api(f"/api/users/{admin['id']}", "PATCH", body, token=admin_token)
        assert code == 400 and answer["error"]["message"].startswith(field), answer
    assert await api(path, token=admin_token) == before
    assert await _audit_count(api, admin_token) == audited

    code, edited = await api(path, "PATCH", {"name": "Dave Li", "roles": ["agent", "supervisor"],
                                             "skills": [{"name": "cards", "level": 5}, {"name": "loans", "level": 1}],
                                             "max_sessions": 5}, token=admin_token)
    assert code == 200
    assert (edited["name"], edited["roles"], edited["max_sessions"]) == ("Dave Li", ["agent", "supervisor"], 5)
    assert edited["skills"] == [{"name": "cards", "level": 5}, {"name": "loans", "level": 1}]
    super_token, _ = await login("super")
    code, _ = await api(path, "PATCH", {"name": "x"}, token=super_token)
    assert code == 403

    # Reset the password: the old one and every token issued with it stop working.
    code, data = await api("/api/auth/login", "POST", {"username": "dave", "password": PASSWORD})
    old_token = data["token"]
    code, _ = await api(path, "PATCH", {"password": "another-long-one"}, token=admin_token)
    assert code == 200
    code, _ = await api("/api/auth/login", "POST", {"username": "dave", "password": PASSWORD})
    assert code == 401
    code, _ = await api("/api/agents", token=old_token)
    assert code == 401
    code, data = await api("/api/auth/login", "POST", {"username": "dave", "password": "another-long-one"})
    assert code == 200

    # Disable, then enable: the user logs in again only once enabled.
    code, disabled = await api(path, "PATCH", {"disabled": True}, token=admin_token)
    assert code == 200 and disabled["disabled"] is True
    code, _ = await api("/api/auth/login", "POST", {"username": "dave", "password": "another-long-one"})
    assert code == 401
    code, _ = await api(path, "PATCH", {"disabled": False}, token=admin_token)
    assert code == 200
    code, _ = await api("/api/auth/login", "POST", {"username": "dave", "password": "another-long-one"})
    assert code == 200
    code, entries = await api(f"/api/audit?limit=20&actor_id={admin['id']}", token=admin_token)
    assert [e["action"] for e in entries["entries"]][:5] == ["user.update"] * 4 + ["user.create"]


@pytest.mark.gen_test(timeout=60)
async def test_new_skills_and_capacity_reach_the_routing_engine_without_a_reconnect(api, console, customer,
                                                                                    login) -> None:
    admin_token, _ = await login("admin")
    carol = await console("carol")  # loans and cards: not the default skill, general
    await carol.ok("presence", status="available")
    path = f"/api/users/{carol.user['id']}"
    code, _ = await api(path, "PATCH", {"skills": [{"name": "general", "level": 4}, {"name": "cards", "level": 2}],
                                        "max_sessions": 4}, token=admin_token)
    assert code == 200
    # Her socket still carries the old user; a presence change must not bring the old skills back.
    await carol.ok("presence", status="away")
    await carol.ok("presence", status="available")
    code, data = await api("/api/agents", token=admin_token)
    agent = next(a for a in data["agents"] if a["id"] == carol.user["id"])
    assert agent["skills"] == {"general": 4, "cards": 2} and agent["capacity"] == 4
    await customer.send_text("o-users-live", "你好")  # the default skill, general
    offer = await carol.event("offer")
    assert offer["skill"] == "general"
