"""WeChat's reply limits as the desk and the simulator see them."""

from __future__ import annotations

import json

from wechat.budget import EVENT_WINDOW_SECS, MESSAGE_WINDOW_SECS, ReplyBudget

T0 = 1_700_000_000.0


def test_never_wrote_is_closed():
    b = ReplyBudget()
    assert b.check(T0) == (False, "window_closed")
    assert b.replies_left(T0) == 0 and b.window_ends_at is None


def test_five_replies_then_refused_and_reset_by_new_message():
    b = ReplyBudget()
    b.on_customer_message(T0)
    for i in range(5):
        assert b.check(T0 + i) == (True, None)
        assert b.replies_left(T0 + i) == 5 - i
        b.record_send(T0 + i)
    assert b.check(T0 + 10) == (False, "quota_used")
    b.on_customer_message(T0 + 20)
    assert b.check(T0 + 21) == (True, None) and b.replies_left(T0 + 21) == 5


def test_48_hour_window():
    b = ReplyBudget()
    b.on_customer_message(T0)
    assert b.window_ends_at == T0 + MESSAGE_WINDOW_SECS
    assert b.check(T0 + MESSAGE_WINDOW_SECS - 1) == (True, None)
    assert b.check(T0 + MESSAGE_WINDOW_SECS) == (False, "window_closed")
    pub = b.to_public(T0 + MESSAGE_WINDOW_SECS)
    assert pub == {
        "window_ends_at": T0 + MESSAGE_WINDOW_SECS,
        "replies_left": 0,
        "replies_max": 5,
        "can_reply": False,
        "reason": "window_closed",
    }


def test_three_per_minute_after_click():
    b = ReplyBudget()
    b.on_customer_event("CLICK", T0)
    for i in range(3):
        assert b.check(T0 + i) == (True, None)
        b.record_send(T0 + i)
    assert b.check(T0 + 3) == (False, "quota_used")
    assert b.check(T0 + EVENT_WINDOW_SECS) == (False, "window_closed")
    b.on_customer_event("subscribe", T0 + 100)
    assert b.replies_left(T0 + 100) == 3
    b.on_customer_event("VIEW", T0 + 200)  # gives nothing
    assert b.check(T0 + 200) == (False, "window_closed")


def test_click_after_message_charges_both():
    b = ReplyBudget()
    b.on_customer_message(T0)
    b.on_customer_event("CLICK", T0 + 1)
    for _ in range(3):
        b.record_send(T0 + 2)
    assert b.replies_left(T0 + 2) == 2
    b.record_send(T0 + 2)
    b.record_send(T0 + 2)
    assert b.check(T0 + 2) == (False, "quota_used")


def test_json_round_trip():
    b = ReplyBudget()
    b.on_customer_message(T0)
    b.record_send(T0)
    again = ReplyBudget.from_dict(json.loads(json.dumps(b.to_dict())))
    assert again == b
    assert ReplyBudget.from_dict(None) == ReplyBudget()
    assert json.dumps(b.to_public(T0))


def test_to_dict_holds_every_field_and_round_trips():
    import dataclasses

    budget = ReplyBudget(last_message_at=1795861811.7351289, sent_since_message=2,
                         last_event_at=1795861700.5, sent_since_event=1)
    assert budget.to_dict() == dataclasses.asdict(budget)  # a new field must be added to to_dict
    assert ReplyBudget.from_dict(budget.to_dict()) == budget
