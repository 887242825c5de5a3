"""A closed console socket is freed by reference counting, not left to the cyclic GC.

With thousands of agents connected, every full pass of CPython's cyclic collector walks every
live object and pauses the event loop for a few hundred ms (measured in bench/bench_desk.py);
sockets that leave reference cycles behind when they close are what triggers those passes.
"""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest


@pytest.mark.gen_test(timeout=20)
async def test_closed_socket_needs_no_cyclic_gc(kefu, console):
    client = await console("alice")
    user_id = client.welcome["user"]["id"]
    (connection,) = kefu.bus._conns[user_id]
    writer = connection._writer
    ref = weakref.ref(connection)
    del connection
    gc.collect()
    gc.disable()
    try:
        client.close()
        await asyncio.wait_for(asyncio.shield(writer), 10)  # the writer returns once the socket is gone
        assert writer.exception() is None and not writer.cancelled()
        await asyncio.sleep(0)  # let the close callbacks that were scheduled with it run
        assert user_id not in kefu.bus._conns
        assert ref() is None, gc.get_referrers(ref())
    finally:
        gc.enable()
