"""Accounts: hashing, tokens (expiry, tampering, alg confusion, revocation), throttling, validation."""

from __future__ import annotations

import base64
import json
import logging

import jwt
import pytest

from bus.local import LocalBus
from desk.accounts import (
    Accounts,
    AuthError,
    BadCredentials,
    ThrottledError,
    ValidationError,
    hash_password,
    verify_password,
)
from desk.errors import Exists
from tests.unit.fakes import MemoryUsers

SECRET = "unit-test-secret-0123456789abcdef"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class Conn:
    def __init__(self, jti: str | None = None) -> None:
        self.jti = jti
        self.closed: tuple[int, str] | None = None

    def deliver(self, frame: dict) -> None:
        pass

    def close_socket(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(clock: Clock) -> Accounts:
    return Accounts(MemoryUsers(), LocalBus(), SECRET, token_lifetime=3600, clock=clock)


async def _agent(accounts: Accounts, username: str = "alice", password: str = "correct-horse") -> dict:
    return await accounts.create_user({"username": username, "password": password, "roles": ["agent"],
                                       "skills": ["general", {"name": "loans", "level": 4}]})


def test_hash_is_salted_encoded_and_verifies():
    a, b = hash_password("pw-12345678"), hash_password("pw-12345678")
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert verify_password("pw-12345678", a)
    assert not verify_password("pw-12345679", a)
    assert not verify_password("x", "garbage") and not verify_password("x", None)


@pytest.mark.gen_test
async def test_create_user_normalises_and_hides_the_hash(accounts):
    user = await _agent(accounts)
    assert "password_hash" not in user and "password" not in user
    assert user["skills"] == [{"name": "general", "level": 3}, {"name": "loans", "level": 4}]
    assert user["max_sessions"] == 3 and user["name"] == "alice"
    with pytest.raises(Exists):
        await _agent(accounts, "ALICE")


@pytest.mark.parametrize("fields,bad", [
    ({"username": "ab", "password": "12345678", "roles": ["agent"]}, "username"),
    ({"username": "a b c", "password": "12345678", "roles": ["agent"]}, "username"),
    ({"username": "abc", "password": "short", "roles": ["agent"]}, "password"),
    ({"username": "abc", "roles": ["agent"]}, "password"),
    ({"username": "abc", "password": "12345678", "roles": []}, "roles"),
    ({"username": "abc", "password": "12345678", "roles": ["root"]}, "roles"),
    ({"username": "abc", "password": "12345678", "roles": ["agent"], "skills": [{"name": "x", "level": 6}]},
     "skills"),
    ({"username": "abc", "password": "12345678", "roles": ["agent"], "skills": "general"}, "skills"),
    ({"username": "abc", "password": "12345678", "roles": ["agent"], "max_sessions": 0}, "max_sessions"),
    ({"username": "abc", "password": "12345678", "roles": ["agent"], "max_sessions": 21}, "max_sessions"),
    ({"username": "abc", "password": "12345678", "roles": ["agent"], "max_sessions": True}, "max_sessions"),
    ({"username": "abc", "password": "12345678", "roles": ["agent"], "is_admin": True}, "is_admin"),
])
@pytest.mark.gen_test
async def test_create_user_names_the_bad_field(accounts, fields, bad):
    with pytest.raises(ValidationError) as info:
        await accounts.create_user(fields)
    assert info.value.field == bad


@pytest.mark.gen_test
async def test_login_issues_a_pinned_hs256_token(accounts, clock):
    user = await _agent(accounts)
    answer = await accounts.login("alice", "correct-horse")
    claims = jwt.decode(answer["token"], SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["sub"] == user["id"] and claims["roles"] == ["agent"]
    assert claims["exp"] - claims["iat"] == 3600 and claims["jti"]
    assert answer["expires_at"] == claims["exp"]
    assert (await accounts.authenticate(answer["token"]))["id"] == user["id"]


@pytest.mark.gen_test
async def test_expired_tampered_and_foreign_tokens_are_refused(accounts, clock):
    user = await _agent(accounts)
    token = (await accounts.login("alice", "correct-horse"))["token"]
    head, body, sig = token.split(".")
    forged_body = json.loads(base64.urlsafe_b64decode(body + "=="))
    forged_body["roles"] = ["admin"]
    forged = base64.urlsafe_b64encode(json.dumps(forged_body).encode()).rstrip(b"=").decode()
    now = int(clock())
    claims = {"sub": user["id"], "roles": ["admin"], "iat": now, "exp": now + 60, "jti": "j"}
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    none_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    bad = {
        "tampered": f"{head}.{forged}.{sig}",
        "alg none": f"{none_header}.{none_body}.",
        "HS512": jwt.encode(claims, SECRET, algorithm="HS512"),
        "other secret": jwt.encode(claims, "another-secret-0123456789abcdef", algorithm="HS256"),
        "no jti": jwt.encode({k: v for k, v in claims.items() if k != "jti"}, SECRET, algorithm="HS256"),
        "garbage": "not.a.token",
    }
    for name, value in bad.items():
        with pytest.raises(AuthError, match="invalid token"):
            await accounts.authenticate(value)
            pytest.fail(name)
    clock.now += 3600
    with pytest.raises(AuthError, match="token expired"):
        await accounts.authenticate(token)


@pytest.mark.gen_test
async def test_logout_revokes_and_closes_that_tokens_sockets(accounts):
    await _agent(accounts)
    token = (await accounts.login("alice", "correct-horse"))["token"]
    other = (await accounts.login("alice", "correct-horse"))["token"]
    user, claims = await accounts.authenticate_token(token)
    mine, theirs = Conn(claims["jti"]), Conn("someone-else")
    accounts.bus.register(user["id"], mine)
    accounts.bus.register(user["id"], theirs)
    await accounts.logout(token)
    assert mine.closed == (4010, "logged out") and theirs.closed is None
    with pytest.raises(AuthError, match="token revoked"):
        await accounts.authenticate(token)
    assert await accounts.authenticate(other)


@pytest.mark.gen_test
async def test_disabling_closes_sockets_and_refuses_tokens(accounts):
    user = await _agent(accounts)
    token = (await accounts.login("alice", "correct-horse"))["token"]
    conn = Conn("x")
    accounts.bus.register(user["id"], conn)
    await accounts.update_user(user["id"], {"disabled": True})
    assert conn.closed == (4010, "user disabled")
    with pytest.raises(AuthError, match="user disabled"):
        await accounts.authenticate(token)
    with pytest.raises(BadCredentials):
        await accounts.login("alice", "correct-horse")


@pytest.mark.gen_test
async def test_password_change_ends_older_tokens(accounts, clock):
    user = await _agent(accounts)
    token = (await accounts.login("alice", "correct-horse"))["token"]
    clock.now += 5
    await accounts.update_user(user["id"], {"password": "battery-staple"})
    with pytest.raises(AuthError, match="token revoked"):
        await accounts.authenticate(token)
    assert await accounts.login("alice", "battery-staple")


@pytest.mark.gen_test
async def test_failed_logins_back_off_and_never_log_the_password(accounts, clock, caplog):
    await _agent(accounts)
    caplog.set_level(logging.WARNING, logger="kefu.accounts")
    for _ in range(3):
        with pytest.raises(BadCredentials):
            await accounts.login("alice", "wrong-password-xyz")
    with pytest.raises(ThrottledError) as info:
        await accounts.login("alice", "correct-horse")  # even the right password waits
    assert 0 < info.value.retry_after <= 1
    clock.now += 1.01
    with pytest.raises(BadCredentials):
        await accounts.login("alice", "wrong-password-xyz")  # 4th failure: 2 s
    clock.now += 1.5
    with pytest.raises(ThrottledError):
        await accounts.login("alice", "correct-horse")
    clock.now += 0.6
    assert (await accounts.login("alice", "correct-horse"))["token"]
    logged = " ".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in caplog.records)
    assert "wrong-password-xyz" not in logged and "correct-horse" not in logged
    assert "'username': 'alice'" in logged and "login throttled" in logged
    # success reset the counter
    with pytest.raises(BadCredentials):
        await accounts.login("alice", "nope-nope")
    assert (await accounts.login("alice", "correct-horse"))["token"]


@pytest.mark.gen_test
async def test_back_off_is_capped_at_60_seconds(accounts, clock):
    for _ in range(12):
        clock.now += 61
        with pytest.raises(BadCredentials):
            await accounts.login("ghost", "whatever-123")
    with pytest.raises(ThrottledError) as info:
        await accounts.login("ghost", "whatever-123")
    assert info.value.retry_after <= 60


@pytest.mark.gen_test
async def test_bootstrap_and_demo_seed(accounts):
    assert await accounts.ensure_bootstrap_admin("root", "root-password")
    assert await accounts.ensure_bootstrap_admin("root2", "root-password") is None
    created = await accounts.seed_demo()
    assert {u["username"] for u in created} == {"admin", "super", "alice", "bob", "carol", "qa"}
    assert await accounts.seed_demo() == []
    bob = next(u for u in await accounts.list_users() if u["username"] == "bob")
    assert bob["max_sessions"] == 2 and {"name": "cards", "level": 5} in bob["skills"]
    assert (await accounts.login("bob", "bob123"))["user"]["roles"] == ["agent"]


@pytest.mark.gen_test
async def test_disabling_notifies_the_desk(accounts):
    user = await _agent(accounts)
    seen: list[str] = []

    async def disabled(user_id: str) -> None:
        seen.append(user_id)

    accounts.on_user_disabled(disabled)
    await accounts.update_user(user["id"], {"max_sessions": 2})
    await accounts.update_user(user["id"], {"disabled": True})
    assert seen == [user["id"]]
