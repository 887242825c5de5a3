"""``GET /api/audit`` through the real app: the audit page's filters and paging."""

from __future__ import annotations

import pytest


@pytest.mark.gen_test(timeout=30)
async def test_audit_filters_and_pages(api, login, kefu) -> None:
    admin, admin_user = await login("admin")
    for i in range(5):
        await kefu.store.add_audit({"ts": 1_000 + i, "actor_id": admin_user["id"], "action": "setting_changed",
                                    "target": "menu" if i % 2 else "skills", "details": {"i": i}})
    await kefu.store.add_audit({"ts": 1_002, "actor_id": "someone", "action": "monitor", "session_id": "s1"})

    status, page = await api("/api/audit?action=setting_changed&limit=2", token=admin)
    assert status == 200 and [e["details"]["i"] for e in page["entries"]] == [4, 3] and page["more"] is True
    status, page = await api("/api/audit?action=setting_changed&limit=2&offset=4", token=admin)
    assert [e["details"]["i"] for e in page["entries"]] == [0] and page["more"] is False
    status, page = await api("/api/audit?target=menu", token=admin)
    assert [e["details"]["i"] for e in page["entries"]] == [3, 1]
    status, page = await api("/api/audit?since=1001&until=1003", token=admin)
    # until is exclusive; a tie in ts: the later entry first
    assert [(e["action"], e["details"].get("i")) for e in page["entries"]] == [
        ("monitor", None), ("setting_changed", 2), ("setting_changed", 1)]
    status, page = await api(f"/api/audit?actor_id={admin_user['id']}&until=1001", token=admin)
    assert [e["details"]["i"] for e in page["entries"]] == [0]
    status, body = await api("/api/audit?since=yesterday", token=admin)
    assert (status, body["error"]["code"]) == (400, "bad_request") and "since" in body["error"]["message"]
