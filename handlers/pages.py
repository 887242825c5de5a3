"""The consoles' HTML shells: login (``/``), the agent workbench, the supervisor wall and the admin console.

The pages are public and carry no data: the browser keeps the token in sessionStorage and gets
everything over ``/api/`` and ``/ws``. Each shell is a Jinja2 template (autoescaped) that links
its assets through Tornado's ``static_url`` (``?v=<hash>``, cached for a year by
StaticFileHandler) and an import map, so the ES modules' own imports are versioned too. The shell
itself is never cached, which is what lets the assets be cached hard.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import tornado.web

from handlers.base import PUBLIC

if TYPE_CHECKING:
    from server import Services

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# The admin console's section modules (static/js/admin/<name>.js; sections.js lists them in order).
ADMIN_SECTIONS = ("sections", "overview", "transcripts", "skills", "users", "teams", "texts", "canned", "bot", "menu", "notifications", "alerts", "audit",
                  "reports", "leave_messages")

# Every ES module the consoles import, by bare name -> file under static/. The import map in
# base.html maps each name to its versioned URL, so an import never goes stale in a cache.
MODULES = {
    "kefu/api": "js/api.js",
    "kefu/socket": "js/socket.js",
    "kefu/i18n": "js/i18n.js",
    "kefu/ui": "js/ui.js",
    "kefu/login": "js/login.js",
    "kefu/guard": "js/guard.js",
    "kefu/connection": "js/connection.js",
    "kefu/profiles": "js/profiles.js",
    "kefu/canned": "js/canned.js",
    "kefu/agent": "js/agent.js",
    **{f"kefu/agent/{panel}": f"js/agent/{panel}.js" for panel in (
        "presence", "offers", "sessions", "conversation", "composer", "replies", "customer",
        "transfer", "close", "shortcuts", "events", "canned", "leave_message")},
    "kefu/supervisor": "js/supervisor.js",
    **{f"kefu/supervisor/{panel}": f"js/supervisor/{panel}.js" for panel in ("wall", "monitor", "explain", "alerts")},
    "kefu/admin": "js/admin.js",
    **{f"kefu/admin/{section}": f"js/admin/{section}.js" for section in ADMIN_SECTIONS},
    "kefu/chart": "js/chart.js",
    "kefu/vendor/chart": "vendor/chart.js/chart.umd.min.js",  # Chart.js 4 (UMD: sets window.Chart), reports
    "kefu/messages": "js/messages.js",
    "kefu/template-card": "js/template_card.js",
    "kefu/lang/zh-CN": "i18n/zh-CN.js",
    "kefu/lang/en": "i18n/en.js",
}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


class PageHandler(tornado.web.RequestHandler):
    """Renders one template with the security headers every console page shares."""

    access: Any = PUBLIC
    template = ""
    page = ""
    # Modules this page imports at start, fetched in parallel with the entry module.
    preload: tuple[str, ...] = ("kefu/i18n", "kefu/ui", "kefu/api")
    jinja: jinja2.Environment

    def initialize(self, jinja: jinja2.Environment) -> None:
        self.jinja = jinja

    def set_default_headers(self) -> None:
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cross-Origin-Opener-Policy", "same-origin")
        self.set_header("Permissions-Policy", "camera=(), microphone=(), geolocation=()")

    def _csp(self, nonce: str) -> str:
        ws_scheme = "wss" if self.request.protocol == "https" else "ws"
        host = self.request.host
        return "; ".join([
            "default-src 'self'",
            # The one inline script is the import map, allowed by this response's nonce.
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            # WeChat's avatar hosts: customers' headimgurl (desk/profiles.py asks for https).
            "img-src 'self' data: blob: https://thirdwx.qlogo.cn https://wx.qlogo.cn",
            "media-src 'self' blob:",
            "font-src 'self'",
            f"connect-src 'self' {ws_scheme}://{host}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ])

    def get(self) -> None:
        nonce = secrets.token_urlsafe(18)
        html = self.jinja.get_template(self.template).render(
            static_url=self.static_url,
            page=self.page,
            nonce=nonce,
            preload=self.preload,
            modules={name: self.static_url(path) for name, path in MODULES.items()},
        )
        self.set_header("Content-Security-Policy", self._csp(nonce))
        self.set_header("Cache-Control", "no-cache")
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(html)


class LoginPage(PageHandler):
    access = PUBLIC
    template = "login.html"
    page = "login"


class AgentPage(PageHandler):
    access = PUBLIC
    template = "agent.html"
    page = "agent"
    preload = PageHandler.preload + ("kefu/socket", "kefu/lang/zh-CN")


class SupervisorPage(PageHandler):
    access = PUBLIC
    template = "supervisor.html"
    page = "supervisor"
    preload = PageHandler.preload + ("kefu/socket", "kefu/chart", "kefu/lang/zh-CN")


class AdminPage(PageHandler):
    access = PUBLIC
    template = "admin.html"
    page = "admin"
    preload = PageHandler.preload + ("kefu/guard", "kefu/admin/sections", "kefu/lang/zh-CN")


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"jinja": _environment()}
    return [
        (r"/", LoginPage, args),
        (r"/agent/?", AgentPage, args),
        (r"/supervisor/?", SupervisorPage, args),
        (r"/admin/?", AdminPage, args),
    ]
