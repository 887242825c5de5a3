"""/healthz and /metrics on the real app."""

from __future__ import annotations

import re

import pytest


@pytest.mark.gen_test
async def test_healthz_answers_ok_with_the_store(api) -> None:
    code, body = await api("/healthz")
    assert code == 200
    assert body == {"status": "ok", "store": "ok"}


@pytest.mark.gen_test(timeout=20)
async def test_metrics_count_messages_and_queues(api, customer, console) -> None:
    alice = await console("alice")
    await alice.ok("presence", status="available")
    await customer.send_text("o-metrics", "你好")
    await alice.event("offer")
    code, text = await api("/metrics")
    assert code == 200
    assert 'kefu_messages_total{direction="in"} 1.0' in text
    assert 'kefu_queue_length{skill="general"}' in text
    assert 'kefu_webhook_requests_total{outcome="stored"} 1.0' in text
    assert 'kefu_sessions{state="offered"} 1.0' in text
    assert "kefu_routing_decision_seconds_count" in text
    assert "kefu_sockets_open 1.0" in text
    # Exported; 0 or 1 as the offer can reach the agent before processing has quite finished.
    assert re.search(r"^kefu_inbound_backlog [01]\.0$", text, re.M)
