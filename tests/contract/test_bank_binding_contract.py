"""The self-service binding on the customer record (desk/self_service.py), on every store: kept as
given, untouched by the messages that follow (their upserts merge), cleared by unbinding, and
still there after the store is reopened."""

from __future__ import annotations

import pytest

from .conftest import make_store

T0 = 1_700_000_000.0
BINDING = {"customer_id": "C0001", "bound_at": T0, "name": "张伟", "segment": "财富客户", "vip": True,
           "vip_level": "金卡", "cards": [{"kind": "credit", "product": "白金信用卡", "number": "**** **** **** 6789"}]}


@pytest.mark.gen_test
async def test_a_binding_is_kept_across_messages_and_cleared_by_unbinding(store):
    await store.upsert_customer("o1", T0)
    rec = await store.update_customer("o1", bank=BINDING, self_service={"step": None, "failures": 0})
    assert rec["bank"] == BINDING
    rec = await store.upsert_customer("o1", T0 + 10, budget={"sent_since_message": 1})  # the next message
    assert rec["bank"] == BINDING and rec["self_service"] == {"step": None, "failures": 0}
    session = await store.create_session({"openid": "o1", "skill": "cards", "state": "queued"})
    await store.file_customer_message("o1", T0 + 20, {"last_skill": "cards"}, session["id"], None,
                                      {"session_id": session["id"], "openid": "o1", "direction": "in",
                                       "author": "customer", "type": "text", "text": "你好", "ts": T0 + 20})
    assert (await store.get_customer("o1"))["bank"] == BINDING
    rec = await store.update_customer("o1", self_service={"step": "code", "challenge_id": "c1", "failures": 2})
    assert rec["bank"] == BINDING and rec["self_service"]["failures"] == 2
    rec = await store.update_customer("o1", bank=None)
    assert rec["bank"] is None and (await store.get_customer("o1"))["bank"] is None


@pytest.mark.gen_test
async def test_a_binding_survives_reopening_the_store(tmp_path):
    first = make_store("sqlite", tmp_path)
    await first.open()
    await first.upsert_customer("o1", T0, bank=BINDING)
    await first.close()
    again = make_store("sqlite", tmp_path)
    await again.open()
    try:
        assert (await again.get_customer("o1"))["bank"] == BINDING
    finally:
        await again.close()
