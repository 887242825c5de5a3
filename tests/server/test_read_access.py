"""Who reads which customer, end to end: every read endpoint and socket read × every kind of reader.

One customer, two sessions: bob took the first and transferred it to alice, who closed it with a
note; the customer wrote again and alice holds the second. carol never served them. The
matrix asserts each reader's status on each read, that a refusal carries nothing of the
customer, does not tell an existing id from a made-up one, and is in the audit log.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

OPENID = "o-acc-cust"
SECRET_TEXT = "卡号 6222 0000 1111 2222"
NOTE = "NOTE-alice-closed-with-this"
REPLY = "REPLY-alice-answered"

ALLOWED, REFUSED, ROLE = "allowed", "refused", "role"
# reader -> (REST reads of the customer and both sessions, session search, socket monitor)
EXPECTED = {
    "alice": (ALLOWED, ROLE, ROLE),  # holds the customer now (and served them through a transfer)
    "bob": (ALLOWED, ROLE, ROLE),  # served them before, then transferred them away
    "carol": (REFUSED, ROLE, ROLE),  # never served this customer
    "super": (ALLOWED, ALLOWED, ALLOWED),
    "qa": (ALLOWED, ALLOWED, ROLE),
    "admin": (ALLOWED, ALLOWED, ALLOWED),
}


async def _accept_next_offer(agent) -> str:
    offer = await agent.event("offer")
    assert offer["customer"]["openid"] == OPENID
    return (await agent.ok("accept", session_id=offer["session_id"]))["session"]["id"]


async def _story(console, customer) -> dict[str, Any]:
    alice, bob, carol = await console("alice"), await console("bob"), await console("carol")
    await bob.ok("presence", status="available")
    await customer.send_text(OPENID, SECRET_TEXT)
    first = await _accept_next_offer(bob)
    await bob.ok("send", session_id=first, text=REPLY)
    await alice.ok("presence", status="available")
    await bob.ok("transfer", session_id=first, to_agent="alice")
    await alice.event("offer", session_id=first)
    await alice.ok("accept", session_id=first)
    await bob.event("session_closed", session_id=first)
    await alice.ok("close", session_id=first, wrapup="resolved", note=NOTE)
    # The customer comes back: sticky routing gives alice, their last agent, the new session.
    await customer.send_text(OPENID, "又来了")
    second = await _accept_next_offer(alice)
    return {"first": first, "second": second, "consoles": {"alice": alice, "bob": bob, "carol": carol}}


def _leaks(body: Any, story: dict[str, Any]) -> list[str]:
    text = json.dumps(body, ensure_ascii=False)
    return [s for s in (OPENID, SECRET_TEXT, NOTE, REPLY, story["first"], story["second"]) if s in text]


@pytest.mark.gen_test(timeout=60)
async def test_every_read_of_a_customer_follows_one_rule(console, customer, api, login) -> None:
    story = await _story(console, customer)
    first, second = story["first"], story["second"]
    sockets = dict(story["consoles"])
    for name in ("super", "qa", "admin"):
        sockets[name] = await console(name)

    for reader, (rest, search, monitor) in EXPECTED.items():
        token = sockets[reader].token
        reads = {
            "customer": f"/api/customers/{OPENID}",
            "customer_sessions": f"/api/customers/{OPENID}/sessions",
            "first": f"/api/sessions/{first}",
            "second": f"/api/sessions/{second}",
        }
        for read, path in reads.items():
            code, body = await api(path, token=token)
            where = f"{reader} {read}"
            if rest == ALLOWED:
                assert code == 200, (where, body)
            else:
                assert code == 403, (where, code, body)
                assert body["error"]["code"] == ("not_your_customer" if read.startswith("customer")
                                                 else "not_your_session"), (where, body)
                assert not _leaks(body, story), (where, body)
        if rest == ALLOWED:
            # Everything of the customer: both sessions with the closing note, both transcripts.
            code, listed = await api(reads["customer_sessions"], token=token)
            assert [s["id"] for s in listed["sessions"]] == [second, first], reader
            assert listed["sessions"][1]["note"] == NOTE
            code, transcript = await api(reads["first"], token=token)
            assert [m.get("text") for m in transcript["messages"]][:2] == [SECRET_TEXT, REPLY], reader
            code, person = await api(reads["customer"], token=token)
            assert person["openid"] == OPENID

        code, body = await api(f"/api/sessions?openid={OPENID}", token=token)
        if search == ALLOWED:
            assert code == 200 and {s["id"] for s in body["sessions"]} == {first, second}, (reader, body)
        else:
            assert code == 403 and body["error"]["code"] == "forbidden" and not _leaks(body, story), (reader, body)

        for session_id in (first, second):
            result = await sockets[reader].command("monitor", session_id=session_id)
            if monitor == ALLOWED:
                assert result["ok"], (reader, result)
                assert result["result"]["session"]["openid"] == OPENID
                await sockets[reader].ok("unmonitor", session_id=session_id)
            else:
                assert result["error"]["code"] == "forbidden" and not _leaks(result, story), (reader, result)


@pytest.mark.gen_test(timeout=60)
async def test_a_refused_read_does_not_tell_whether_the_customer_exists_and_is_audited(
        console, customer, api, login) -> None:
    story = await _story(console, customer)
    carol = story["consoles"]["carol"]
    real = [await api(f"/api/customers/{OPENID}", token=carol.token),
            await api(f"/api/customers/{OPENID}/sessions", token=carol.token),
            await api(f"/api/sessions/{story['first']}", token=carol.token)]
    made_up = [await api("/api/customers/o-nobody-at-all", token=carol.token),
               await api("/api/customers/o-nobody-at-all/sessions", token=carol.token),
               await api("/api/sessions/0123456789abcdef0123456789abcdef", token=carol.token)]
    # Same status, same code, same words: an agent cannot probe which customers exist.
    assert [(c, b["error"]) for c, b in real] == [(c, b["error"]) for c, b in made_up]
    assert {c for c, _ in real} == {403}

    # Those who read everything do learn that a made-up id does not exist.
    admin_token, _ = await login("admin")
    assert (await api("/api/sessions/0123456789abcdef0123456789abcdef", token=admin_token))[0] == 404
    assert (await api("/api/customers/o-nobody-at-all", token=admin_token))[0] == 404

    code, audit = await api(f"/api/audit?actor_id={carol.user['id']}", token=admin_token)
    assert code == 200
    refused = [(e["action"], e["details"]["read"], e["target"] or e["session_id"]) for e in audit["entries"]]
    assert ("read_refused", "customer", OPENID) in refused
    assert ("read_refused", "customer_sessions", OPENID) in refused
    assert ("read_refused", "session", story["first"]) in refused
    assert ("read_refused", "customer", "o-nobody-at-all") in refused
    assert len(refused) == 6
