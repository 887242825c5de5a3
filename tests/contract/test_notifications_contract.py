"""The notification part of the store contract (template messages, desk/notifications.py), on
every backend (see conftest.py): the record's shape, updates that cannot change who and what it
was for, and the lists by customer, kind and sender, newest first with insertion order breaking
ties."""

from __future__ import annotations

import pytest

from store import DuplicateError, NotFound
from store.records import NotificationRecord

T0 = 1_700_000_000.0


def _notification(openid: str = "o1", **fields):
    return {"openid": openid, "template_id": "tpl1", **fields}


@pytest.mark.gen_test
async def test_add_get_update_and_the_record_shape(store):
    rec = await store.add_notification(_notification(
        title="交易提醒", kind="transaction", data={"thing3": {"value": "消费", "color": "#173177"}},
        url="https://bank.example/tx/1", created_at=T0, created_by="u-bank"))
    assert rec == {"id": rec["id"], "openid": "o1", "template_id": "tpl1", "title": "交易提醒",
                   "kind": "transaction", "data": {"thing3": {"value": "消费", "color": "#173177"}},
                   "url": "https://bank.example/tx/1", "status": "pending", "msgid": None, "error": None,
                   "created_at": T0, "created_by": "u-bank", "sent_at": None, "session_id": None,
                   "message_id": None, "delivery": None, "delivery_at": None}
    assert set(rec) == NotificationRecord.__required_keys__
    assert await store.get_notification(rec["id"]) == rec
    assert await store.get_notification("missing") is None

    sent = await store.update_notification(rec["id"], status="sent", msgid=2000000001, sent_at=T0 + 1,
                                           session_id="s1", message_id="m1")
    assert (sent["status"], sent["msgid"], sent["sent_at"], sent["session_id"]) == ("sent", 2000000001, T0 + 1, "s1")
    assert sent["data"] == rec["data"]  # untouched fields stay
    assert await store.get_notification(rec["id"]) == sent
    with pytest.raises(NotFound):
        await store.update_notification("missing", status="sent")
    for frozen in ("id", "openid", "template_id", "created_at", "created_by"):
        with pytest.raises(ValueError):
            await store.update_notification(rec["id"], **{frozen: "x"})
    with pytest.raises(DuplicateError):
        await store.add_notification(_notification(id=rec["id"]))
    with pytest.raises(ValueError):
        await store.add_notification({"openid": "o1"})
    with pytest.raises(ValueError):
        await store.add_notification(_notification(status="delivered"))


@pytest.mark.gen_test
async def test_lists_by_customer_kind_and_sender_newest_first(store):
    a = await store.add_notification(_notification("o1", kind="transaction", created_by="bank", created_at=T0))
    b = await store.add_notification(_notification("o2", kind="transaction", created_by="bank", created_at=T0 + 5))
    c = await store.add_notification(_notification("o1", kind="leave_message", created_by="alice", created_at=T0 + 5))
    d = await store.add_notification(_notification("o1", kind="transaction", created_by="bank", created_at=T0 + 9))

    def ids(recs):
        return [r["id"] for r in recs]

    assert ids(await store.list_notifications()) == [d["id"], c["id"], b["id"], a["id"]]  # ties: later insert first
    assert ids(await store.list_notifications(openid="o1")) == [d["id"], c["id"], a["id"]]
    assert ids(await store.list_notifications(openid="o1", kind="transaction")) == [d["id"], a["id"]]
    assert ids(await store.list_notifications(created_by="bank")) == [d["id"], b["id"], a["id"]]
    assert ids(await store.list_notifications(kind="leave_message")) == [c["id"]]
    assert ids(await store.list_notifications(openid="o1", limit=2, offset=1)) == [c["id"], a["id"]]
    assert await store.list_notifications(openid="nobody") == []
    assert await store.list_notifications(limit=0) == []
    # An update keeps the record where it was in the lists.
    await store.update_notification(a["id"], status="refused", error={"code": "customer_unsubscribed"})
    assert ids(await store.list_notifications(openid="o1"))[-1] == a["id"]
