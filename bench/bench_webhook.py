"""Webhook ingest throughput, plain and safe mode, as a ratio to a bare Tornado handler.

Kefu runs as its own process on an SQLite store (every answered message is durably stored); the
baseline is a bare Tornado handler answering ``success`` in another process. The same client,
with the same concurrency and pre-built requests, drives both, so the ratio compares servers.
Targets on a 2-core machine: plain >= 0.5, safe mode >= 0.35.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from bench.harness import free_port, start_process, stop_process, wait_http
from wechat.crypto import MessageCipher, _sha1_sorted

TOKEN = "benchtoken"
APPID = "wxbench000000001"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
REQUESTS = 3000
CONCURRENCY = 32
WARMUP = 200


def build_requests(base: str, count: int, safe: bool, tag: str) -> list[tuple[str, bytes]]:
    cipher = MessageCipher(TOKEN, AES_KEY, APPID)
    out = []
    stamp = str(int(time.time()))
    for i in range(count):
        nonce = secrets.token_hex(4)
        xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o{tag}{i % 500}]]>"
               f"</FromUserName><CreateTime>{stamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               f"<Content><![CDATA[你好 {i}]]></Content><MsgId>{tag}{i}</MsgId></xml>")
        query = f"signature={_sha1_sorted(TOKEN, stamp, nonce)}&timestamp={stamp}&nonce={nonce}&openid=o{i}"
        if safe:
            body = cipher.encrypt_message(xml, nonce, int(stamp))
            from wechat.xmlsafe import parse_xml

            encrypt = parse_xml(body)[1]["Encrypt"]
            query += f"&encrypt_type=aes&msg_signature={_sha1_sorted(TOKEN, stamp, nonce, encrypt)}"
            body = f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        else:
            body = xml
        out.append((f"{base}/wechat?{query}", body.encode("utf-8")))
    return out


async def drive(requests: list[tuple[str, bytes]]) -> float:
    """Send every request with CONCURRENCY in flight; return requests per second."""
    client = AsyncHTTPClient(max_clients=CONCURRENCY)
    queue = list(reversed(requests))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while queue:
            url, body = queue.pop()
            response = await client.fetch(HTTPRequest(url, method="POST", body=body), raise_error=False)
            if response.code != 200:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{failures} requests failed")
    return len(requests) / elapsed


async def measure(base: str, safe: bool, tag: str) -> float:
    await drive(build_requests(base, WARMUP, safe, tag + "w"))
    return await drive(build_requests(base, REQUESTS, safe, tag))


def main() -> dict[str, float]:
    bare_port, kefu_port = free_port(), free_port()
    bare = start_process(["-m", "bench.bare_server", str(bare_port)])
    with tempfile.TemporaryDirectory() as tmp:
        kefu = start_process([
            "server.py", "--port", str(kefu_port), "--store", f"sqlite:///{tmp}/bench.sqlite3",
            "--wechat-token", TOKEN, "--wechat-appid", APPID, "--wechat-aes-key", AES_KEY,
            "--jwt-secret", "bench-secret", "--wechat-api", "http://127.0.0.1:9", "--log-level", "warning",
        ])
        try:
            wait_http(f"http://127.0.0.1:{bare_port}/healthz", proc=bare)
            wait_http(f"http://127.0.0.1:{kefu_port}/healthz", proc=kefu)
            results = asyncio.run(_run(bare_port, kefu_port))
        finally:
            stop_process(kefu)
            stop_process(bare)
    print(f"bare Tornado handler : {results['bare_rps']:8.0f} req/s")
    print(f"Kefu plain           : {results['plain_rps']:8.0f} req/s  ratio {results['plain_ratio']:.2f} (target >= 0.50)")
    print(f"Kefu safe mode (AES) : {results['safe_rps']:8.0f} req/s  ratio {results['safe_ratio']:.2f} (target >= 0.35)")
    return results


async def _run(bare_port: int, kefu_port: int) -> dict[str, float]:
    bare_rps = await measure(f"http://127.0.0.1:{bare_port}", False, "b")
    plain_rps = await measure(f"http://127.0.0.1:{kefu_port}", False, "p")
    safe_rps = await measure(f"http://127.0.0.1:{kefu_port}", True, "s")
    return {"bare_rps": round(bare_rps), "plain_rps": round(plain_rps), "safe_rps": round(safe_rps),
            "plain_ratio": round(plain_rps / bare_rps, 3), "safe_ratio": round(safe_rps / bare_rps, 3)}


if __name__ == "__main__":
    main()
