"""``GET /api/openapi.json`` against the routes the real app has: every /api/ route and method is
described, nothing described is missing from the app, and the document is valid OpenAPI 3.1.

Generic on purpose: an endpoint added by any feature fails here until its handler declares its
operations (``api_doc``, see handlers/openapi.py).
"""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from handlers.openapi import api_routes, build_document, implemented_methods, path_template


def _routes_and_methods(app) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for regex, handler in api_routes(app):
        template, _ = path_template(regex, tuple(getattr(handler, "api_path_params", ())))
        found.setdefault(template, set()).update(implemented_methods(handler))
    return found


def test_every_api_route_and_method_is_described_and_nothing_else(app) -> None:
    document = build_document(app)
    in_app = _routes_and_methods(app)
    described = {path: set(ops) for path, ops in document["paths"].items()}
    assert in_app, "the app has /api/ routes"
    undescribed = {p: sorted(m - described.get(p, set())) for p, m in in_app.items() if m - described.get(p, set())}
    assert not undescribed, f"declare api_doc on these handlers: {undescribed}"
    invented = {p: sorted(m - in_app.get(p, set())) for p, m in described.items() if m - in_app.get(p, set())}
    assert not invented, f"described but not answered by the app: {invented}"
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and op["x-kefu-roles"], (path, method)
            names = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            assert names == [seg[1:-1] for seg in path.split("/") if seg.startswith("{")], (path, method)



@pytest.mark.gen_test(timeout=30)
async def test_served_publicly_and_valid(api, app) -> None:
    status, document = await api("/api/openapi.json")  # no token: it describes shapes, not data
    assert status == 200
    validate(document)  # raises on a structural error (openapi-spec-validator, OpenAPI 3.1)
    assert document == build_document(app)
    login = document["paths"]["/api/auth/login"]["post"]
    assert login["security"] == [] and login["x-kefu-roles"] == "public"
    publish = document["paths"]["/api/menu/publish"]["post"]
    assert publish["x-kefu-roles"] == ["admin"] and "502" in publish["responses"]
    audit = document["paths"]["/api/audit"]["get"]
    assert {"action", "target", "since", "until"} <= {p["name"] for p in audit["parameters"]}
    assert document["paths"]["/api/users/{user_id}"]["patch"]["requestBody"]
    assert "/api/openapi.json" in document["paths"]


def test_an_undeclared_handler_is_reported(app) -> None:
    """The check can fail: a route whose handler declares nothing is missing from the document."""
    from handlers.base import AUTHENTICATED, APIHandler

    class Undeclared(APIHandler):
        access = AUTHENTICATED

        async def delete(self, thing_id: str) -> None:
            self.write_json({})

    app.wildcard_router.add_rules([(r"/api/things/([^/]+)", Undeclared)])
    assert _routes_and_methods(app)["/api/things/{param1}"] == {"delete"}
    assert "/api/things/{param1}" not in build_document(app)["paths"]
