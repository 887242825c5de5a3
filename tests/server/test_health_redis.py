"""/healthz with a real Redis of the test's own: reported, and 503 when it goes away."""

from __future__ import annotations

from dataclasses import replace

import pytest

from server import build_services, make_app


@pytest.fixture
def kefu(io_loop, kefu_config, redis_server):
    services = io_loop.run_sync(lambda: build_services(replace(kefu_config, redis=redis_server["url"])))
    yield services

    async def stop() -> None:
        await services.desk.stop()
        assert services.redis is not None
        await services.redis.aclose()
        await services.store.close()

    io_loop.run_sync(stop)


@pytest.fixture
def app(kefu):
    return make_app(kefu)


@pytest.mark.redis
@pytest.mark.gen_test(timeout=20)
async def test_healthz_reports_redis_and_turns_503_when_it_goes(api, redis_server) -> None:
    code, body = await api("/healthz")
    assert (code, body["redis"]) == (200, "ok")
    redis_server["proc"].terminate()
    redis_server["proc"].wait(10)
    code, body = await api("/healthz")
    assert code == 503
    assert body["redis"] == "failing"
    assert body["store"] == "ok"
