"""`server.make_app`: every route is given only its own pieces, and a handler without declared
access stops the app from being made (auth fails closed)."""

from __future__ import annotations

from typing import Any

import pytest
import tornado.web

from server import make_app


class _Undeclared(tornado.web.RequestHandler):
    def get(self) -> None:
        self.finish("anyone")


class _Mounts:
    """Stands in for the demo simulator: one more module of routes."""

    def __init__(self, routes: list[Any]) -> None:
        self._routes = routes

    def routes(self) -> list[Any]:
        return self._routes


def test_make_app_refuses_a_handler_that_does_not_declare_its_access(kefu_services):
    kefu_services.simulator = _Mounts([(r"/open", _Undeclared, {})])
    with pytest.raises(RuntimeError, match="_Undeclared does not declare its access"):
        make_app(kefu_services)


def test_no_route_is_given_the_whole_services(kefu_services):
    app = make_app(kefu_services)
    rules = app.wildcard_router.rules
    assert rules, "no routes"
    for rule in rules:
        kwargs = rule.target_kwargs or {}
        assert all(value is not kefu_services for value in kwargs.values()), rule.matcher
        assert "services" not in kwargs, rule.matcher
    assert "services" not in app.settings
