"""SQLite store: what group commit buys on the webhook's hot path, and what writes cost readers.

Baseline (same run, same disk): ``put_inbound`` one at a time, so each write is its own
transaction and fsync. Then the same calls with many in flight (as concurrent webhook requests
are), where the writer thread folds them into one transaction per batch. Reads run on their own
connection and thread; the last figures compare read latency idle and under that write load.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.harness import percentile
from store.sqlite import SQLiteStore

SEQUENTIAL_WRITES = 300
CONCURRENT_WRITES = 3000
IN_FLIGHT = 64
READS = 500


async def _run(path: str) -> dict:
    store = SQLiteStore(path)
    await store.open()
    try:
        started = time.perf_counter()
        for i in range(SEQUENTIAL_WRITES):
            await store.put_inbound(f"seq{i}", "o1", {"Content": "hello", "i": i}, time.time())
        sequential_rate = SEQUENTIAL_WRITES / (time.perf_counter() - started)

        async def read_latencies() -> list[float]:
            out = []
            for i in range(READS):
                t = time.perf_counter()
                await store.get_inbound(f"seq{i % SEQUENTIAL_WRITES}")
                out.append(time.perf_counter() - t)
            return out

        idle = await read_latencies()

        commits_before = store.commits
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(CONCURRENT_WRITES):
            queue.put_nowait(i)

        async def writer() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                await store.put_inbound(f"con{i}", "o1", {"Content": "hello", "i": i}, time.time())

        started = time.perf_counter()
        writers = asyncio.gather(*[writer() for _ in range(IN_FLIGHT)])
        loaded = await read_latencies()
        await writers
        concurrent_rate = CONCURRENT_WRITES / (time.perf_counter() - started)
        batches = store.commits - commits_before
    finally:
        await store.close()
    return {
        "sequential_writes_per_s": round(sequential_rate),
        "concurrent_writes_per_s": round(concurrent_rate),
        "group_commit_speedup": round(concurrent_rate / sequential_rate, 2),
        "writes_per_commit": round(CONCURRENT_WRITES / max(1, batches), 1),
        "read_p50_idle_ms": round(percentile(idle, 50) * 1000, 3),
        "read_p50_under_writes_ms": round(percentile(loaded, 50) * 1000, 3),
        "read_p99_under_writes_ms": round(percentile(loaded, 99) * 1000, 3),
    }


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(_run(str(Path(tmp) / "bench.sqlite3")))
    for key, value in results.items():
        print(f"{key:28} {value}")
    return results


if __name__ == "__main__":
    main()
