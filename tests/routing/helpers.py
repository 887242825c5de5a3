"""Shared helpers for the routing tests: a tiny driver around RoutingEngine."""

from __future__ import annotations

from typing import Any

from routing import Decision, EngineSettings, Event, RoutingEngine


class Driver:
    """Applies events, keeps the log, and finds decisions by kind."""

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.engine = RoutingEngine(settings)
        self.log: list[Event] = []
        self.decisions: list[Decision] = []

    def __call__(self, event: Event) -> list[Decision]:
        self.log.append(event)
        out = self.engine.apply(event)
        self.decisions.extend(out)
        return out


def kinds(decisions: list[Decision]) -> list[str]:
    return [d.kind for d in decisions]


def only(decisions: list[Decision], kind: str) -> list[Any]:
    return [d for d in decisions if d.kind == kind]


def offers(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(d.session_id, d.agent_id) for d in decisions if d.kind == "offer_session"]
