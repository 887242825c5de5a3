"""Operations reports (运营报表): the contract's report by skill, agent, team, day and hour, and the
agents' state times and occupancy, from what the store keeps (never from counters a restart resets).

The store aggregates (``Store.report_partials``: sums and counts per skill, first agent or
15-minute bucket, by SQL or a MongoDB pipeline); this module checks the question, merges the
partials into the rows asked for (buckets into local days or hours, agents into teams), turns
sums into means and the service level, adds QA averages (``Store.qa_totals_by_session``, the QA
feature's) and the names. Definitions, limits and the time zone: docs/protocol.md, "Reports".

Who may ask: supervisors and admins. A supervisor in a team (desk/access.py) gets the sessions
their team's agents answered first and those agents' state times, nothing else.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from desk.access import AccessPolicy
from desk.errors import Forbidden, ValidationError
from desk.roles import STAFF_ROLES, roles_of
from desk.skills import Skills
from desk.teams import Teams
from routing.config import DEFAULT_TZ
from store.base import Store
from store.records import AGENT_STATES, REPORT_BUCKET_SECS, PublicUser, ReportGroup, ReportPartial

By = Literal["skill", "agent", "team", "day", "hour"]
BY_VALUES: tuple[By, ...] = ("skill", "agent", "team", "day", "hour")
FORMATS = ("json", "csv", "xlsx")
# The longest range one report covers: a year, leap day included. Longer asks are refused
# (400) rather than left to run for minutes on the store.
MAX_RANGE_DAYS = 366
# The service-level threshold of a skill whose settings have none (the skills' own default).
DEFAULT_SLA_SECS = 30.0
# How many session ids one QA question carries (a year's report asks in several).
QA_CHUNK = 500

ROW_FIELDS = ("key", "offered", "answered", "abandoned", "service_level", "asa_s", "aht_s", "frt_s",
              "transfers", "csat_avg", "csat_count", "qa_avg")
AGENT_FIELDS = ("agent_id", "name", "available_s", "busy_s", "away_s", "wrapup_s", "offline_s",
                "logged_in_s", "occupancy")
_GROUP_OF: dict[By, ReportGroup] = {"skill": "skill", "agent": "agent", "team": "agent",
                                    "day": "bucket", "hour": "bucket"}
_SUMS = ("offered", "answered", "answered_in_sla", "abandoned", "abandoned_after_sla", "wait_sum",
         "handle_sum", "handle_n", "frt_sum", "frt_n", "transfers", "csat_sum", "csat_n")


@dataclass(frozen=True)
class Range:
    """A checked question: ``[since, until)`` in epoch seconds and the zone of its days and hours."""

    since: float
    until: float
    tz: zoneinfo.ZoneInfo


def _zone(value: str | None) -> zoneinfo.ZoneInfo:
    name = value or DEFAULT_TZ
    try:
        return zoneinfo.ZoneInfo(name)
    # OSError: a name that is a directory of the zone database (America) or too long for a path.
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError("tz", f"{name!r} is not a known time zone (such as Asia/Shanghai)") from None


def _instant(name: str, value: str | None, tz: zoneinfo.ZoneInfo) -> float:
    """An ISO 8601 date (midnight in ``tz``) or date-time with an offset, as epoch seconds."""
    if not value:
        raise ValidationError(name, "is required (an ISO 8601 date such as 2026-03-01, or a date-time "
                                    "with an offset such as 2026-03-01T08:00:00+08:00)")
    text = value.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(name, f"{value[:40]!r} is not an ISO 8601 date or date-time") from None
    if moment.tzinfo is None:
        raise ValidationError(name, "a date-time needs an offset (such as +08:00 or Z)")
    return moment.timestamp()


def parse_range(start: str | None, end: str | None, tz: str | None) -> Range:
    """``from``/``to``/``tz`` of a report question, checked: 400 ``bad_field`` naming the field."""
    zone = _zone(tz)
    since, until = _instant("from", start, zone), _instant("to", end, zone)
    if until <= since:
        raise ValidationError("to", "must be after from (to is exclusive)")
    if until - since > MAX_RANGE_DAYS * 86400:
        raise ValidationError("to", f"a report covers at most {MAX_RANGE_DAYS} days")
    return Range(since, until, zone)


def parse_by(value: str | None) -> By:
    for by in BY_VALUES:
        if value == by:
            return by
    raise ValidationError("by", "must be one of " + ", ".join(BY_VALUES))


def parse_format(value: str | None) -> str:
    if value in (None, ""):
        return "json"
    if value not in FORMATS:
        raise ValidationError("format", "must be json, csv or xlsx")
    return value


def _empty(key: str | None) -> ReportPartial:
    return {"key": key, "offered": 0, "answered": 0, "answered_in_sla": 0, "abandoned": 0,
            "abandoned_after_sla": 0, "wait_sum": 0.0, "handle_sum": 0.0, "handle_n": 0, "frt_sum": 0.0,
            "frt_n": 0, "transfers": 0, "csat_sum": 0.0, "csat_n": 0}


def merge(partials: Iterable[ReportPartial], key_of: Callable[[str | None], str | None]) -> dict[str | None, ReportPartial]:
    """Partials added up under the keys ``key_of`` gives their own keys."""
    out: dict[str | None, ReportPartial] = {}
    for p in partials:
        key = key_of(p["key"])
        into = out.setdefault(key, _empty(key))
        for name in _SUMS:
            into[name] += p[name]  # type: ignore[literal-required]
    return out


def _mean(total: float, n: int, digits: int = 2) -> float | None:
    return round(total / n, digits) if n else None


def row_of(p: ReportPartial, qa: list[float] | None = None) -> dict[str, Any]:
    """The contract's row from one key's sums: service level = answered within the SLA ÷
    (answered + abandoned after it); means in seconds; None where nothing was measured."""
    denominator = p["answered"] + p["abandoned_after_sla"]
    return {"key": p["key"], "offered": p["offered"], "answered": p["answered"], "abandoned": p["abandoned"],
            "service_level": round(p["answered_in_sla"] / denominator, 4) if denominator else None,
            "asa_s": _mean(p["wait_sum"], p["answered"]), "aht_s": _mean(p["handle_sum"], p["handle_n"]),
            "frt_s": _mean(p["frt_sum"], p["frt_n"]), "transfers": p["transfers"],
            "csat_avg": _mean(p["csat_sum"], p["csat_n"]), "csat_count": p["csat_n"],
            "qa_avg": _mean(sum(qa), len(qa)) if qa else None}


def occupancy_row(agent_id: str, name: str, secs: Mapping[str, float]) -> dict[str, Any]:
    """State times of one agent; occupancy = (busy + wrap-up) ÷ (available + busy + wrap-up):
    the share of the time an agent could take work that went to work (away and offline left out)."""
    row: dict[str, Any] = {"agent_id": agent_id, "name": name}
    for state in AGENT_STATES:
        row[f"{state}_s"] = round(float(secs.get(state, 0.0)), 2)
    working = row["busy_s"] + row["wrapup_s"]
    ready = working + row["available_s"]
    row["logged_in_s"] = round(ready + row["away_s"], 2)
    row["occupancy"] = round(working / ready, 4) if ready else None
    return row


class Reports:
    def __init__(self, store: Store, skills: Skills, teams: Teams, access: AccessPolicy,
                 clock: Callable[[], float]) -> None:
        self.store = store
        self.skills = skills
        self.teams = teams
        self.access = access
        self.clock = clock

    def _scope(self, user: PublicUser) -> frozenset[str] | None:
        if not roles_of(user) & STAFF_ROLES:
            raise Forbidden("reports need the role supervisor or admin")
        return self.access.scope(user)  # None: every agent (admins, supervisors in no team)

    def _key_of(self, by: By, tz: zoneinfo.ZoneInfo) -> Callable[[str | None], str | None]:
        if by == "team":
            return self._team_of
        if by in ("day", "hour"):
            fmt = "%Y-%m-%d" if by == "day" else "%H:00"

            def local(bucket: str | None) -> str | None:
                if bucket is None:
                    return None
                return dt.datetime.fromtimestamp(int(bucket) * REPORT_BUCKET_SECS, tz).strftime(fmt)
            return local
        return lambda key: key

    def _team_of(self, agent_id: str | None) -> str | None:
        """An agent's team: the first (by name) they are a member of; None for no team."""
        if agent_id is None:
            return None
        teams = [t for t in self.teams.teams_of(agent_id) if agent_id in t["members"]]
        return teams[0]["name"] if teams else None

    async def report(self, user: PublicUser, start: str | None, end: str | None, by_arg: str | None,
                     tz: str | None = None) -> list[dict[str, Any]]:
        """``GET /api/reports``: the rows, sorted (times in order, other keys by key, None last)."""
        scope = self._scope(user)
        span, by = parse_range(start, end, tz), parse_by(by_arg)
        group = _GROUP_OF[by]
        skills = await self.skills.all()
        sla = {s["name"]: float(s.get("sla_secs") or DEFAULT_SLA_SECS) for s in skills}
        partials = await self.store.report_partials(span.since, span.until, group, sla, DEFAULT_SLA_SECS,
                                                    agent_ids=scope)
        key_of = self._key_of(by, span.tz)
        merged = merge(partials, key_of)
        qa = await self._qa(span, group, scope, key_of)
        rows = [row_of(p, qa.get(key)) for key, p in merged.items()]
        rows.sort(key=lambda r: (r["key"] is None, r["key"] or ""))
        labels = await self._labels(by, skills)
        for row in rows:
            row["label"] = labels.get(row["key"], row["key"]) if row["key"] is not None else None
        return rows

    async def _qa(self, span: Range, group: ReportGroup, scope: frozenset[str] | None,
                  key_of: Callable[[str | None], str | None]) -> dict[str | None, list[float]]:
        pairs = await self.store.report_session_keys(span.since, span.until, group, agent_ids=scope)
        out: dict[str | None, list[float]] = {}
        for i in range(0, len(pairs), QA_CHUNK):
            chunk = pairs[i:i + QA_CHUNK]
            totals = await self.store.qa_totals_by_session([sid for sid, _ in chunk])
            for sid, key in chunk:
                if totals.get(sid):
                    out.setdefault(key_of(key), []).extend(totals[sid])
        return out

    async def _labels(self, by: By, skills: list[dict[str, Any]]) -> dict[str | None, str]:
        if by == "skill":
            return {s["name"]: s.get("label") or s["name"] for s in skills}
        if by == "agent":
            return {u["id"]: u["name"] for u in await self.store.list_users()}
        return {}

    async def agent_states(self, user: PublicUser, start: str | None, end: str | None,
                           tz: str | None = None) -> list[dict[str, Any]]:
        """``GET /api/reports/agents``: each agent's time per state and occupancy in the range."""
        scope = self._scope(user)
        span = parse_range(start, end, tz)
        totals = await self.store.agent_state_totals(span.since, span.until, self.clock(), agent_ids=scope)
        users = {u["id"]: u for u in await self.store.list_users()
                 if "agent" in (u.get("roles") or ()) and (scope is None or u["id"] in scope)}
        rows = [occupancy_row(agent_id, users[agent_id]["name"] if agent_id in users else agent_id,
                              totals.get(agent_id, {}))
                for agent_id in {*users, *totals}]
        rows.sort(key=lambda r: (str(r["name"]).casefold(), r["agent_id"]))
        return rows
