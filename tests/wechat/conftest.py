"""Fixtures for the WeChat channel: a fake clock, a simulated platform on a real port, a client.

Reusable elsewhere: ``from tests.wechat.conftest import wechat_clock, wechat_platform, wechat_sim``
(or list this module in ``pytest_plugins``). ``wechat_sim.api_base`` is what ``--wechat-api``
would be.
"""

from __future__ import annotations

import pytest

from wechat.client import WeChatClient
from wechat.sim.platform import WeChatPlatform
from wechat.sim.testing import FakeClock, PlatformServer, start_platform_server

APPID = "wx49f0ab532d5d035a"
SECRET = "sim-secret"
TOKEN = "123456"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


@pytest.fixture
def wechat_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wechat_platform(wechat_clock: FakeClock) -> WeChatPlatform:
    return WeChatPlatform(APPID, SECRET, TOKEN, aes_key=AES_KEY, clock=wechat_clock)


@pytest.fixture
def wechat_sim(io_loop, wechat_platform: WeChatPlatform):
    """The simulated WeChat API listening on a free port for the test's loop."""
    sim = start_platform_server(wechat_platform)
    yield sim
    sim.stop()


@pytest.fixture
def wechat_client(wechat_sim: PlatformServer, wechat_clock: FakeClock) -> WeChatClient:
    """A client pointed at ``wechat_sim``, on the same fake clock, with no back-off delay."""
    return WeChatClient(APPID, SECRET, api_base=wechat_sim.api_base, clock=wechat_clock, busy_backoff_secs=0)
