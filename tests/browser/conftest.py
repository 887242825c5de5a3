"""Fixtures for the browser tests: the real server in a subprocess and a system Chromium.

* ``kefu_server`` — ``server.py --demo`` on a free port with a SQLite file in a temporary
  folder, started once per test module; waits for ``/healthz`` and stops it with SIGTERM.
* ``browser`` — the Debian ``/usr/bin/chromium`` (never ``playwright install``). When it is
  missing the tests are skipped with the reason, except under ``CI=true``, where they fail.
* ``open_page(viewport=...)`` — a fresh context and page that records console errors and page
  errors; the test fails at teardown if any page logged one.
* ``sim`` — plays WeChat customers through the simulator's page API.
* ``artifacts`` — ``test-artifacts/`` at the repository root, for screenshots.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT_SECS = 30
# Generous: two cores are shared with other test suites.
EXPECT_TIMEOUT_MS = 15000
VIEWPORTS = {"1280x800": {"width": 1280, "height": 800}, "1920x1080": {"width": 1920, "height": 1080}}
DEMO_PASSWORDS = {"alice": "alice123", "bob": "bob123", "carol": "carol123", "super": "super123", "admin": "admin123",
                  "qa": "qa123456"}
# Console messages that are not our pages' errors.
# ERR_INTERNET_DISCONNECTED is what the offline test causes on purpose (resources and the socket).
IGNORED_CONSOLE = ("net::ERR_INTERNET_DISCONNECTED",)


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} is missing: install the Debian package 'chromium' (make system-deps)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI=true: a missing browser fails the suite)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, base: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self.base = base
        self.proc = proc
        self.log_path = log_path

    def url(self, path: str) -> str:
        return self.base + path

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@pytest.fixture(scope="module")
def kefu_server(tmp_path_factory, request) -> Any:
    """The server for one test module; a module may set ``KEFU_SERVER_ARGS`` (extra flags)."""
    _require_chromium()
    tmp = tmp_path_factory.mktemp("kefu-browser")
    port = _free_port()
    log_path = tmp / "server.log"
    python = ROOT / ".venv" / "bin" / "python"
    cmd = [str(python if python.exists() else sys.executable), "server.py", "--demo", "--port", str(port),
           "--store", f"sqlite:///{tmp / 'kefu.sqlite3'}", "--log-format", "text",
           *getattr(request.module, "KEFU_SERVER_ARGS", ())]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECS
    server = Server(base, proc, log_path)
    while True:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as res:
                if res.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not answer /healthz within {SERVER_START_TIMEOUT_SECS} s:\n{server.log_tail()}")
        time.sleep(0.2)  # polling a subprocess's port: there is no event to wait on
    yield server
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this thread
# while it is started, and the pytest-tornado tests of later modules need to run their own.
@pytest.fixture(scope="module")
def playwright_instance() -> Any:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="module")
def browser(playwright_instance) -> Any:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()


@pytest.fixture
def open_page(browser, kefu_server, request) -> Any:
    """``open_page(viewport="1280x800", name="alice")`` → a page in a fresh context."""
    contexts: list[Any] = []
    errors: list[str] = []
    allowed: list[str] = []

    def make(viewport: str = "1280x800", name: str = "page", locale: str = "zh-CN", bypass_csp: bool = False) -> Any:
        # bypass_csp only for pages that get axe-core injected inline (add_script_tag(path=...)).
        context = browser.new_context(viewport=VIEWPORTS[viewport], base_url=kefu_server.base, locale=locale,
                                      bypass_csp=bypass_csp)
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()

        def on_console(msg: Any) -> None:
            if msg.type == "error" and not any(s in msg.text for s in (*IGNORED_CONSOLE, *allowed)):
                errors.append(f"[{name}] console.error: {msg.text} @ {page.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: errors.append(f"[{name}] page error: {exc} @ {page.url}"))
        return page

    # A test that provokes an HTTP error on purpose (a wrong password) lists its expected message.
    make.allow = allowed.append  # type: ignore[attr-defined]
    yield make
    for context in contexts:
        context.close()
    if not getattr(request.node, "allow_console_errors", False):
        assert not errors, "JavaScript errors on the page:\n" + "\n".join(errors)


class Simulator:
    """Plays WeChat customers through the demo simulator's page API."""

    def __init__(self, base: str) -> None:
        self.base = base

    def send(self, openid: str, text: str | None = None, kind: str = "text", **fields: Any) -> dict[str, Any]:
        body = {"openid": openid, "type": kind, **fields}
        if text is not None:
            body["text"] = text
        req = urllib.request.Request(self.base + "/simulator/api/send", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=15) as res:
            return json.loads(res.read() or b"{}")

    def replies(self, openid: str) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.base}/simulator/api/replies?openid={openid}", timeout=10) as res:
            return json.loads(res.read()).get("replies", [])


@pytest.fixture
def sim(kefu_server) -> Simulator:
    return Simulator(kefu_server.base)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


def save_screenshot(page: Any, artifacts: Path, name: str, docs_name: str | None = None) -> Path:
    """A screenshot in test-artifacts/; with ``docs_name`` and KEFU_UPDATE_SCREENSHOTS=1 also
    copied to docs/screenshots/ (the README's pictures change only when someone asks)."""
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path))
    if docs_name and os.environ.get("KEFU_UPDATE_SCREENSHOTS") == "1":
        docs = ROOT / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, docs / docs_name)
    return path


def login(page: Any, username: str, password: str | None = None, expect_path: str | None = None) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password or DEMO_PASSWORDS[username])
    page.get_by_role("button", name="登录").click()
    if expect_path:
        page.wait_for_url(f"**{expect_path}")
        expect(page.locator("body")).to_have_attribute("data-page", expect_path.strip("/"))


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page."""
    page.add_script_tag(path=str(ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"))
    result = page.evaluate("""async () => {
        // Colours are measured on the settled page: a card still fading in is not what stays.
        const finite = document.getAnimations().filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity);
        await Promise.all(finite.map(a => a.finished.catch(() => null)));
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def wait_until(predicate: Any, timeout_s: float = 15.0, what: str = "condition") -> Any:
    """Poll a condition outside the browser (the simulator's API) until it holds."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)  # the simulator lives in the server's child process, read over HTTP: no event reaches this test


def go_available(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#conn-status")).to_have_attribute("data-state", "open")
    page.locator("#presence-available").click()
    expect(page.locator("#presence-available")).to_have_attribute("aria-pressed", "true")
