"""Webhook ingest throughput, plain and safe mode, as a ratio to a bare Tornado handler.

Kefu runs as its own process on an SQLite store (every answered message is durably stored and
then processed: customer, session, routing); the baseline is a bare Tornado handler answering
``success`` in another process. The load comes from ``wrk`` (Debian package ``wrk``; keep-alive
connections, C, so the client is not what is measured) driving pre-built signed requests, each
with its own MsgId and nonce, the same way against both. Without ``wrk`` a Python client is used and the
figures say so: it saturates before a bare Tornado handler does, so its ratios are too kind.
Targets on a 2-core machine: plain >= 0.5, safe mode >= 0.35.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from bench.harness import free_port, start_process, stop_process, wait_http
from wechat.crypto import MessageCipher, msg_signature
from wechat.xmlsafe import parse_xml

TOKEN = "benchtoken"
APPID = "wxbench000000001"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WRK_SECONDS = 6
WRK_CONNECTIONS = 32
# Requests prepared per Kefu mode: more than wrk can send in WRK_SECONDS, so no MsgId repeats
# (the run fails if one would). The bare handler stores nothing, so it may cycle through fewer.
POOL = 60000
BARE_POOL = 5000
WARM_POOL = 8000  # the 1 s warm-up of a Kefu run: distinct messages too
PY_REQUESTS = 3000
PY_CONCURRENCY = 32
# Each round measures the bare handler and both Kefu modes back to back, and the ratios are taken
# within a round: on a shared 2-core machine the bare handler alone varied 3,400-5,600 req/s
# within an hour. The medians over the rounds are the figures.
ROUNDS = int(os.environ.get("KEFU_BENCH_ROUNDS", "3"))


def signature(stamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted((TOKEN, stamp, nonce))).encode()).hexdigest()


def build_requests(count: int, safe: bool, tag: str) -> list[tuple[str, str]]:
    """``(path with query, body)`` pairs, each a distinct message from one of 500 customers."""
    cipher = MessageCipher(TOKEN, AES_KEY, APPID)
    stamp = str(int(time.time()))
    out = []
    for i in range(count):
        # A nonce of its own per request, as WeChat sends: Kefu refuses a signed (timestamp, nonce)
        # pair that comes back with another message, and 60,000 random 8-hex-digit nonces would
        # repeat one about every other run.
        nonce = f"{secrets.token_hex(2)}{tag}{i}"
        xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o{tag}{i % 500}]]>"
               f"</FromUserName><CreateTime>{stamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               f"<Content><![CDATA[你好 {i}]]></Content><MsgId>{tag}{i}</MsgId></xml>")
        query = f"signature={signature(stamp, nonce)}&timestamp={stamp}&nonce={nonce}&openid=o{i % 500}"
        if safe:
            encrypt = parse_xml(cipher.encrypt_message(xml, nonce, int(stamp)))[1]["Encrypt"]
            query += f"&encrypt_type=aes&msg_signature={msg_signature(TOKEN, stamp, nonce, encrypt)}"
            body = f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        else:
            body = xml
        out.append((f"/wechat?{query}", body))
    return out


_WRK_SCRIPT = """
local requests = dofile("%(pool)s")
local counter = 0
local threads = {}
function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = offset
end
function request()
  counter = counter + %(threads)d
  local r = requests[(counter %% #requests) + 1]
  return wrk.format("POST", r[1], {["Content-Type"] = "text/xml"}, r[2])
end
function done(summary, latency, requests_)
  io.write(string.format("KEFU_RESULT %%d %%d %%d\\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _lua_string(text: str) -> str:
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\""


def wrk_rps(port: int, requests: list[tuple[str, str]], workdir: Path, seconds: int = WRK_SECONDS,
            may_repeat: bool = False) -> tuple[float, int]:
    pool = workdir / f"pool{secrets.token_hex(3)}.lua"
    pool.write_text("return {\n" + ",\n".join(f"{{{_lua_string(p)}, {_lua_string(b)}}}" for p, b in requests)
                    + "\n}\n", encoding="utf-8")
    script = workdir / "script.lua"
    threads = 2
    script.write_text(_WRK_SCRIPT % {"pool": pool, "threads": threads})
    proc = subprocess.run(["wrk", "-t", str(threads), "-c", str(WRK_CONNECTIONS), "-d", f"{seconds}s",
                           "-s", str(script), f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                          timeout=seconds + 60)
    match = re.search(r"KEFU_RESULT (\d+) (\d+) (\d+)", proc.stdout)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", proc.stdout)
    if not match or not rps:
        raise RuntimeError(f"wrk failed: {proc.stdout}\n{proc.stderr}")
    sent, bad_status, socket_errors = map(int, match.groups())
    if bad_status or socket_errors:
        raise RuntimeError(f"wrk: {bad_status} non-2xx answers, {socket_errors} socket errors")
    if sent >= len(requests) and not may_repeat:
        raise RuntimeError(f"wrk sent {sent} requests but only {len(requests)} distinct ones were prepared")
    return float(rps.group(1)), sent


async def python_rps(port: int, requests: list[tuple[str, str]]) -> float:
    client = AsyncHTTPClient(max_clients=PY_CONCURRENCY)
    queue = list(reversed(requests))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while queue:
            path, body = queue.pop()
            response = await client.fetch(HTTPRequest(f"http://127.0.0.1:{port}{path}", method="POST",
                                                      body=body.encode()), raise_error=False)
            failures += response.code != 200

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(PY_CONCURRENCY)))
    if failures:
        raise RuntimeError(f"{failures} requests failed")
    return len(requests) / (time.perf_counter() - started)


def measure(port: int, pools: dict[str, list[tuple[str, str]]], workdir: Path, use_wrk: bool,
            stores: bool = True) -> tuple[float, int]:
    """Requests per second of the measured run, and how many requests were answered in all
    (warm-up included: each is a distinct message Kefu goes on to process)."""
    if use_wrk:
        if not stores:
            wrk_rps(port, pools["warm"][:BARE_POOL], workdir, seconds=1, may_repeat=True)
            return wrk_rps(port, pools["run"][:BARE_POOL], workdir, may_repeat=True)
        _, warm = wrk_rps(port, pools["warm"], workdir, seconds=1)
        rps, sent = wrk_rps(port, pools["run"], workdir)
        return rps, warm + sent
    asyncio.run(python_rps(port, pools["warm"][:200]))
    return asyncio.run(python_rps(port, pools["run"][:PY_REQUESTS])), 200 + PY_REQUESTS


def processed_count(port: int) -> int:
    """Messages Kefu has taken into processing (``kefu_messages_total{direction="in"}``)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    match = re.search(r'^kefu_messages_total\{direction="in"\} ([\d.e+]+)$', text, re.M)
    return int(float(match.group(1))) if match else 0


def wait_processed(port: int, count: int, timeout: float = 120.0) -> float:
    """Seconds until ``count`` messages have been taken into processing."""
    started = time.perf_counter()
    while processed_count(port) < count:
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"Kefu processed {processed_count(port)} of {count} messages within {timeout} s")
        time.sleep(0.05)
    return time.perf_counter() - started


def measure_kefu(pools: dict[str, list[tuple[str, str]]], store_name: str, workdir: Path,
                 use_wrk: bool) -> dict[str, float]:
    """A fresh Kefu on a fresh store: acknowledged rate, then how long processing trails behind."""
    port = free_port()
    kefu = start_process([
        "server.py", "--port", str(port), "--store", f"sqlite:///{workdir}/{store_name}.sqlite3",
        "--wechat-token", TOKEN, "--wechat-appid", APPID, "--wechat-aes-key", AES_KEY,
        "--jwt-secret", "bench-secret-0123456789abcdef0123", "--wechat-api", "http://127.0.0.1:9",
        "--log-level", "warning",
    ])
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=kefu)
        rps, answered = measure(port, pools, workdir, use_wrk)
        trailing = wait_processed(port, answered)
    finally:
        stop_process(kefu)
    return {"rps": rps, "processing_trailed_s": round(trailing, 2)}


def measure_bare(pools: dict[str, list[tuple[str, str]]], workdir: Path, use_wrk: bool) -> float:
    port = free_port()
    bare = start_process(["-m", "bench.bare_server", str(port)])
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=bare)
        return measure(port, pools, workdir, use_wrk, stores=False)[0]
    finally:
        stop_process(bare)


def main() -> dict[str, object]:
    use_wrk = shutil.which("wrk") is not None
    rounds = []
    print(f"load from {'wrk' if use_wrk else 'python (client-bound: install wrk for a fair figure)'}; "
          f"{ROUNDS} rounds, each: bare handler, Kefu plain, Kefu safe mode", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for n in range(ROUNDS):
            # Built afresh each round: the signed timestamps must stay within --wechat-max-skew.
            plain_pools = {"warm": build_requests(WARM_POOL, False, "w"), "run": build_requests(POOL, False, "p")}
            safe_pools = {"warm": build_requests(WARM_POOL, True, "w"), "run": build_requests(POOL, True, "s")}
            bare_rps = measure_bare(plain_pools, workdir, use_wrk)
            # Each mode on its own fresh Kefu and store, so one mode's trailing processing does
            # not land in the other's measurement.
            plain = measure_kefu(plain_pools, f"p{n}", workdir, use_wrk)
            safe = measure_kefu(safe_pools, f"s{n}", workdir, use_wrk)
            rounds.append({"bare_rps": round(bare_rps), "plain_rps": round(plain["rps"]),
                           "safe_rps": round(safe["rps"]),
                           "plain_ratio": round(plain["rps"] / bare_rps, 3),
                           "safe_ratio": round(safe["rps"] / bare_rps, 3),
                           "plain_processing_trailed_s": plain["processing_trailed_s"],
                           "safe_processing_trailed_s": safe["processing_trailed_s"]})
            r = rounds[-1]
            print(f"round {n + 1}: bare {r['bare_rps']:5d} req/s | plain {r['plain_rps']:5d} req/s, ratio "
                  f"{r['plain_ratio']:.2f}, processing done {r['plain_processing_trailed_s']} s after | safe "
                  f"{r['safe_rps']:5d} req/s, ratio {r['safe_ratio']:.2f}, processing done "
                  f"{r['safe_processing_trailed_s']} s after", flush=True)
    results: dict[str, object] = {
        "client": "wrk" if use_wrk else "python (client-bound)",
        **{key: statistics.median(r[key] for r in rounds) for key in rounds[0]},
        "rounds": rounds,
    }
    print(f"median bare Tornado handler : {results['bare_rps']:8.0f} req/s")
    print(f"median Kefu plain           : {results['plain_rps']:8.0f} req/s  ratio {results['plain_ratio']:.2f} "
          f"(target >= 0.50); processing done {results['plain_processing_trailed_s']} s after the load")
    print(f"median Kefu safe mode (AES) : {results['safe_rps']:8.0f} req/s  ratio {results['safe_ratio']:.2f} "
          f"(target >= 0.35); processing done {results['safe_processing_trailed_s']} s after the load")
    return results


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
