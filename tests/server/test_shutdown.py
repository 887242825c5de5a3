"""Graceful shutdown: SIGTERM stops accepting, finishes in-flight work, closes sockets with 1001,
flushes the store and exits 0; logs are one JSON object a line with no message contents."""

from __future__ import annotations

import asyncio
import json
import signal

from tests.server.test_crash import console, free_port, start_server, wait_ready, webhook


def test_sigterm_closes_sockets_with_going_away_and_exits_cleanly(tmp_path) -> None:
    port = free_port()
    store_url = f"sqlite:///{tmp_path / 'shutdown.sqlite3'}"
    proc = start_server(port, store_url, log_level="info")

    async def run() -> tuple[int | None, int]:
        await wait_ready(port, proc)
        alice = await console(port, "alice", "alice123")
        import tornado.httpclient

        url, body = webhook(port, "o-shutdown", 555001, "秘密内容 secret-content")
        response = await tornado.httpclient.AsyncHTTPClient().fetch(url, method="POST", body=body)
        assert response.body == b"success"
        proc.send_signal(signal.SIGTERM)
        while await alice.read_message() is not None:
            pass
        return alice.close_code, await asyncio.get_running_loop().run_in_executor(None, proc.wait, 30)

    try:
        close_code, exit_code = asyncio.run(run())
    finally:
        if proc.poll() is None:  # the test failed before the server stopped: leave nothing behind
            proc.kill()
            proc.wait()
    assert close_code == 1001
    assert exit_code == 0
    logs = proc.stderr.read().decode()
    events = [json.loads(line)["event"] for line in logs.splitlines()]
    assert "listening" in events and "shutting down" in events and events[-1] == "stopped"
    for line in logs.splitlines():
        entry = json.loads(line)  # one JSON object a line
        assert {"ts", "level", "event"} <= set(entry)
    assert "secret-content" not in logs
    assert "signature=" not in logs
