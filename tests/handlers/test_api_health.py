"""The read API (desk calls, roles, error mapping), /healthz and /metrics on a live app."""

from __future__ import annotations

import pytest

from desk.errors import DeskError
from desk.metrics import Metrics


@pytest.mark.gen_test
async def test_session_and_error_mapping(api_fetch, kefu_services, login):
    token = await login("alice")
    status, body, _ = await api_fetch("/api/sessions/s1", token=token)
    assert status == 200 and body == {"session": {"id": "s1"}, "messages": []}
    assert (await api_fetch("/api/sessions/missing", token=token))[0] == 404
    status, body, _ = await api_fetch("/api/sessions/theirs", token=token)
    assert status == 403 and body["error"]["code"] == "not_your_session"
    kefu_services.desk.answers["get_customer"] = DeskError("invalid_state", "that customer is busy")
    status, body, _ = await api_fetch("/api/customers/o1", token=token)
    assert status == 409 and body["error"] == {"code": "invalid_state", "message": "that customer is busy"}
    kefu_services.desk.answers["customer_sessions"] = RuntimeError("secret internals")
    status, body, _ = await api_fetch("/api/customers/o1/sessions", token=token)
    assert status == 500 and body["error"]["code"] == "internal" and "secret" not in body["error"]["message"]


@pytest.mark.gen_test
async def test_search_passes_filters_and_checks_roles(api_fetch, kefu_services, login):
    assert (await api_fetch("/api/sessions", user="alice"))[0] == 403
    status, body, _ = await api_fetch("/api/sessions?skill=loans&q=refund&since=10&limit=5", user="super")
    assert status == 200 and body == {"total": 0, "sessions": []}
    name, (uid, filters) = kefu_services.desk.calls[-1]
    assert name == "search_sessions"
    assert filters == {"openid": None, "agent_id": None, "skill": "loans", "since": 10.0, "until": None,
                       "text": "refund", "limit": 5, "offset": 0}
    status, body, _ = await api_fetch("/api/sessions?limit=1000", user="super")
    assert status == 400 and "limit" in body["error"]["message"]


@pytest.mark.gen_test
async def test_role_gates(api_fetch, login):
    alice, sup, admin = await login("alice"), await login("super"), await login("admin")
    for path, allowed, refused in [
        ("/api/queues", [sup, admin], [alice]),
        ("/api/agents", [sup, admin], [alice]),
        ("/api/audit", [admin], [alice, sup]),
        ("/api/skills", [alice], []),
    ]:
        for token in allowed:
            assert (await api_fetch(path, token=token))[0] == 200, path
        for token in refused:
            assert (await api_fetch(path, token=token))[0] == 403, path
        assert (await api_fetch(path))[0] == 401


@pytest.mark.gen_test
async def test_audit_lists_user_changes(api_fetch, login):
    admin = await login("admin")
    await api_fetch("/api/users", "POST", {"username": "zed", "password": "zed-password", "roles": ["qa"]},
                    token=admin)
    status, body, _ = await api_fetch("/api/audit?limit=10", token=admin)
    assert status == 200 and body["entries"][0]["action"] == "user.create"


@pytest.mark.gen_test
async def test_unknown_api_path_is_json_404(api_fetch):
    status, body, _ = await api_fetch("/api/nope")
    assert status == 404 and body["error"]["code"] == "not_found"


@pytest.mark.gen_test
async def test_healthz_ok_and_failing(api_fetch, kefu_services):
    status, body, _ = await api_fetch("/healthz")
    assert status == 200 and body == {"status": "ok", "store": "ok"}

    async def store_down() -> bool:
        return False

    kefu_services.store.ping = store_down
    status, body, _ = await api_fetch("/healthz")
    assert status == 503 and body == {"status": "failing", "store": "failing"}


async def redis_down() -> bool:
    raise ConnectionError("redis down")


@pytest.mark.gen_test
@pytest.mark.services(redis_ping=redis_down)
async def test_healthz_failing_when_redis_is_down(api_fetch):
    status, body, _ = await api_fetch("/healthz")
    assert status == 503 and body["redis"] == "failing" and body["store"] == "ok"


@pytest.mark.gen_test
async def test_metrics_text_from_the_apps_own_registry(api_fetch, ws_hello, kefu_services):
    await ws_hello("alice")
    metrics = kefu_services.metrics
    metrics.message_in()
    metrics.wechat_api_error(45047)
    metrics.observe_routing(0.002)
    metrics.webhook("stored")
    status, _, response = await api_fetch("/metrics")
    text = response.body.decode()
    assert status == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert "kefu_sockets_open 1.0" in text
    assert 'kefu_messages_total{direction="in"} 1.0' in text
    assert 'kefu_wechat_api_errors_total{code="45047"} 1.0' in text
    assert 'kefu_webhook_requests_total{outcome="stored"} 1.0' in text
    assert "kefu_routing_decision_seconds_count 1.0" in text
    assert 'kefu_queue_length{skill="general"} 2.0' in text
    assert 'kefu_queue_longest_wait_seconds{skill="general"} 7.5' in text
    assert 'kefu_sessions{state="queued"} 0.0' in text


def test_metrics_registries_are_independent():
    a, b = Metrics(), Metrics()
    a.message_out()
    assert b"kefu_messages_total" not in b.render() or b'direction="out"} 1.0' not in b.render()
