"""Auth and users over real HTTP: login, throttling, token attacks, logout, the users API."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from tests.conftest import TEST_JWT_SECRET, test_password


@pytest.mark.gen_test
async def test_login_ok_and_me(api_fetch):
    status, body, _ = await api_fetch("/api/auth/login", "POST", {"username": "alice", "password": "alice-password"})
    assert status == 200
    assert set(body) == {"token", "expires_at", "user"}
    assert {"id", "name", "username", "roles", "skills", "max_sessions"} <= set(body["user"])
    assert "password_hash" not in body["user"]
    status, me, _ = await api_fetch("/api/me", token=body["token"])
    assert status == 200 and me["username"] == "alice"


@pytest.mark.gen_test
async def test_bad_password_401_then_throttled_429(api_fetch):
    for _ in range(3):
        status, body, _ = await api_fetch("/api/auth/login", "POST", {"username": "bob", "password": "nope-nope"})
        assert status == 401 and body["error"]["code"] == "bad_credentials"
    status, body, response = await api_fetch("/api/auth/login", "POST",
                                             {"username": "bob", "password": test_password("bob")})
    assert status == 429 and body["error"]["code"] == "too_many_attempts"
    assert int(response.headers["Retry-After"]) >= 1
    # other usernames are not affected
    status, _, _ = await api_fetch("/api/auth/login", "POST", {"username": "alice", "password": "alice-password"})
    assert status == 200


@pytest.mark.gen_test
async def test_login_body_errors(api_fetch):
    status, body, _ = await api_fetch("/api/auth/login", "POST", "{not json")
    assert status == 400 and body["error"]["code"] == "invalid_json"
    status, body, _ = await api_fetch("/api/auth/login", "POST", {"username": "alice"})
    assert status == 400 and "password" in body["error"]["message"]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def bad_tokens(kefu_services, login) -> dict[str, str]:
    """Every kind of token that must be refused, keyed by what is wrong with it."""
    accounts = kefu_services.accounts
    alice = await kefu_services.store.get_user_by_username("alice")
    now = int(time.time())
    claims = {"sub": alice["id"], "roles": ["admin"], "iat": now, "exp": now + 600, "jti": "jti-x"}
    good = await login("alice")
    head, body, sig = good.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(body + "=="))
    decoded["roles"] = ["admin"]
    revoked = await login("alice")
    await accounts.logout(revoked)
    disabled_user = await accounts.create_user({"username": "dave", "password": "dave-password",
                                                "roles": ["agent"]})
    disabled = await login("dave")
    await accounts.update_user(disabled_user["id"], {"disabled": True})
    return {
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, TEST_JWT_SECRET, "HS256"),
        "tampered": f"{head}.{_b64(decoded)}.{sig}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "HS512": jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS512"),
        "RS-style header": f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.{sig}",
        "revoked": revoked,
        "disabled user": disabled,
    }


@pytest.mark.gen_test
async def test_bad_tokens_are_refused_on_http(api_fetch, kefu_services, login):
    for name, token in (await bad_tokens(kefu_services, login)).items():
        status, body, _ = await api_fetch("/api/me", token=token)
        assert status == 401, name
        assert body["error"]["code"] == "unauthorized", name
    status, body, _ = await api_fetch("/api/me")
    assert status == 401
    status, _, _ = await api_fetch("/api/me", headers={"Authorization": "Basic YWxpY2U6eA=="})
    assert status == 401


@pytest.mark.gen_test
async def test_bad_tokens_are_refused_on_the_socket(ws_connect, kefu_services, login):
    for name, token in (await bad_tokens(kefu_services, login)).items():
        client = await ws_connect()
        client.write_message(json.dumps({"type": "hello", "token": token, "resume": None}))
        assert await client.read_message() is None, name
        assert client.close_code == 4001, name


@pytest.mark.gen_test
async def test_logout_204_revokes_and_closes_sockets_4010(api_fetch, ws_hello, login):
    token = await login("alice")
    client, welcome = await ws_hello("alice", token=token)
    assert welcome["type"] == "welcome"
    other, _ = await ws_hello("alice")  # a different login survives
    status, _, _ = await api_fetch("/api/auth/logout", "POST", token=token)
    assert status == 204
    assert await client.read_message() is None and client.close_code == 4010
    status, body, _ = await api_fetch("/api/me", token=token)
    assert status == 401 and "revoked" in body["error"]["message"]
    other.write_message(json.dumps({"type": "ping", "id": 1}))
    assert json.loads(await other.read_message())["ok"]


@pytest.mark.gen_test
async def test_create_user_201_without_password(api_fetch):
    status, body, response = await api_fetch("/api/users", "POST", user="admin", body={
        "username": "erin", "password": "erin-password", "name": "Erin", "roles": ["agent"],
        "skills": ["general", {"name": "cards", "level": 5}], "max_sessions": 4})
    assert status == 201, body
    assert "password" not in json.dumps(body) or "password" not in body
    assert "password_hash" not in body and "password" not in body
    assert body["skills"] == [{"name": "general", "level": 3}, {"name": "cards", "level": 5}]
    assert response.headers["Location"] == f"/api/users/{body['id']}"
    status, listed, _ = await api_fetch("/api/users", user="super")
    assert status == 200 and "erin" in {u["username"] for u in listed["users"]}
    assert all("password_hash" not in u for u in listed["users"])


@pytest.mark.gen_test
async def test_create_user_409_400_403(api_fetch, login):
    admin = await login("admin")
    base = {"username": "alice", "password": "long-enough", "roles": ["agent"]}
    status, body, _ = await api_fetch("/api/users", "POST", base, token=admin)
    assert status == 409 and body["error"]["code"] == "exists"
    for field, value in [("username", "x"), ("password", "short"), ("roles", ["king"]),
                         ("skills", [{"name": "a", "level": 9}]), ("max_sessions", 50)]:
        status, body, _ = await api_fetch("/api/users", "POST", {**base, "username": "newbie", field: value},
                                          token=admin)
        assert status == 400 and body["error"]["code"] == "bad_field", field
        assert body["error"]["message"].startswith(field), body
    for who in ("alice", "super"):
        status, body, _ = await api_fetch("/api/users", "POST", {**base, "username": "newbie"}, user=who)
        assert status == 403 and body["error"]["code"] == "forbidden"
    status, _, _ = await api_fetch("/api/users", user="alice")
    assert status == 403


@pytest.mark.gen_test
async def test_patch_user_disables_and_closes_sockets(api_fetch, ws_hello, kefu_services, login):
    bob = await kefu_services.store.get_user_by_username("bob")
    client, _ = await ws_hello("bob")
    admin = await login("admin")
    status, body, _ = await api_fetch(f"/api/users/{bob['id']}", "PATCH", {"disabled": True, "max_sessions": 5},
                                      token=admin)
    assert status == 200 and body["disabled"] is True and body["max_sessions"] == 5
    assert await client.read_message() is None and client.close_code == 4010
    status, _, _ = await api_fetch("/api/users/nobody", "PATCH", {"disabled": True}, token=admin)
    assert status == 404
    status, body, _ = await api_fetch(f"/api/users/{bob['id']}", "PATCH", {"username": "robert"}, token=admin)
    assert status == 400 and body["error"]["message"].startswith("username")
    status, _, _ = await api_fetch(f"/api/users/{bob['id']}", "PATCH", {"disabled": False}, user="super")
    assert status == 403
