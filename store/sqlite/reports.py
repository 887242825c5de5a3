"""Reports (运营报表) on SQLite: the report's sums by SQL aggregation, and the agent-state log.

A report reads a range of ``sessions`` by ``queued_at`` (index ``sessions_queued``, migration
11) and aggregates in one ``GROUP BY``; the few fields that have no column of their own are read
with ``json_extract`` from the row's JSON, and the first agent message of each answered session
comes from the partial index ``messages_agent_reply`` (only agents' messages, by session and
time), so a year's report visits each session once and each answer with one index probe.

Reports run on their own read connection and thread (a `Reader` of their own): a report over a
year takes a while, and the desk's reads (a customer's session on every message) must not wait
behind it.

The agent-state log (``agent_states``) keeps intervals ``[start_at, end_at)``; the open one has
``end_at IS NULL``. A closed interval is cut at multiples of `AGENT_STATE_PIECE_SECS`, so the pieces
that overlap a range start at most one piece length before it (index ``agent_states_start``);
the open intervals, one per agent, are found through their own partial index.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping
from typing import Any

from ..agent_states import pieces
from ..records import (
    ABANDONED_REASONS,
    AGENT_STATE_PIECE_SECS,
    REPORT_BUCKET_SECS,
    AgentState,
    ReportGroup,
    ReportPartial,
)
from .codec import dumps
from .reader import Reader
from .writer import Writer

_ABANDONED = ",".join(f"'{r}'" for r in ABANDONED_REASONS)  # constants of ours, not input

_KEYS = {
    "skill": "skill",
    "agent": "first_agent",
    "bucket": f"CAST(CAST(q / {REPORT_BUCKET_SECS} AS INTEGER) AS TEXT)",
}

# One row per session in range, with what the sums need; the CASE around the first-reply
# subquery keeps it from running for sessions nobody answered.
_SESSIONS = """
    SELECT s.id AS id, s.skill AS skill, s.state AS state, s.queued_at AS q,
           json_extract(s.doc, '$.agents[0]') AS first_agent,
           json_extract(s.doc, '$.accepted_at') AS acc,
           json_extract(s.doc, '$.closed_at') AS cl,
           json_extract(s.doc, '$.close_reason') AS reason,
           json_array_length(s.doc, '$.transfers') AS ntr,
           json_extract(s.doc, '$.csat.score') AS csat,
           {sla} AS sla
    FROM sessions s
    WHERE s.queued_at >= ? AND s.queued_at < ? AND s.state != 'bot' {scope}
"""

# MATERIALIZED: each session's JSON is parsed once. Flattened into the outer query, every mention
# of ``acc`` or ``fr`` below would extract (and ``fr`` probe the messages) again: 1.7× the CPU.
_PARTIALS = f"""
    WITH r AS MATERIALIZED (
        SELECT t.*, CASE WHEN t.acc IS NOT NULL THEN (
                   SELECT MIN(m.ts) FROM messages m
                   WHERE m.session_id = t.id AND json_extract(m.doc, '$.author') = 'agent') END AS fr
        FROM ({_SESSIONS}) t)
    SELECT {{key}} AS k,
           COUNT(*),
           SUM(acc IS NOT NULL),
           SUM(acc IS NOT NULL AND acc - q <= sla),
           SUM(acc IS NULL AND state IN ('closed', 'diverted') AND reason IN ({_ABANDONED})),
           SUM(acc IS NULL AND state IN ('closed', 'diverted') AND reason IN ({_ABANDONED})
               AND cl - q > sla),
           TOTAL(CASE WHEN acc IS NOT NULL THEN acc - q END),
           TOTAL(CASE WHEN acc IS NOT NULL AND state = 'closed' AND cl IS NOT NULL THEN cl - acc END),
           SUM(acc IS NOT NULL AND state = 'closed' AND cl IS NOT NULL),
           TOTAL(fr - acc),
           COUNT(fr),
           TOTAL(ntr),
           TOTAL(csat),
           COUNT(csat)
    FROM r
    GROUP BY k
"""

_SESSION_KEYS = f"""
    SELECT id, {{key}} FROM ({_SESSIONS})
    WHERE acc IS NOT NULL AND state = 'closed'
"""


def _sla_case(sla_secs: Mapping[str, float], default: float) -> tuple[str, list[Any]]:
    if not sla_secs:
        return "?", [float(default)]
    whens = " ".join("WHEN ? THEN ?" for _ in sla_secs)
    params: list[Any] = []
    for skill, secs in sla_secs.items():
        params += [skill, float(secs)]
    return f"CASE s.skill {whens} ELSE ? END", [*params, float(default)]


def _scope(agent_ids: Collection[str] | None) -> tuple[str, list[Any]]:
    if agent_ids is None:
        return "", []
    return "AND json_extract(s.doc, '$.agents[0]') IN (SELECT value FROM json_each(?))", [dumps(sorted(agent_ids))]




class Reports:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader  # the reports' own connection (see the module docstring)

    async def partials(self, since: float, until: float, group: ReportGroup, sla_secs: Mapping[str, float],
                       default_sla_secs: float, agent_ids: Collection[str] | None) -> list[ReportPartial]:
        sla_sql, sla_params = _sla_case(sla_secs, default_sla_secs)
        scope_sql, scope_params = _scope(agent_ids)
        sql = _PARTIALS.format(key=_KEYS[group], sla=sla_sql, scope=scope_sql)
        params = [*sla_params, float(since), float(until), *scope_params]
        rows = await self._reader.read(lambda c: c.execute(sql, params).fetchall())
        return [{"key": r[0], "offered": r[1], "answered": r[2] or 0, "answered_in_sla": r[3] or 0,
                 "abandoned": r[4] or 0, "abandoned_after_sla": r[5] or 0, "wait_sum": r[6],
                 "handle_sum": r[7], "handle_n": r[8] or 0, "frt_sum": r[9], "frt_n": r[10],
                 "transfers": int(r[11]), "csat_sum": r[12], "csat_n": r[13]} for r in rows]

    async def session_keys(self, since: float, until: float, group: ReportGroup,
                           agent_ids: Collection[str] | None) -> list[tuple[str, str | None]]:
        scope_sql, scope_params = _scope(agent_ids)
        sql = _SESSION_KEYS.format(key=_KEYS[group], sla="0", scope=scope_sql)
        params = [float(since), float(until), *scope_params]
        rows = await self._reader.read(lambda c: c.execute(sql, params).fetchall())
        return [(r[0], r[1]) for r in rows]

    async def append_agent_state(self, agent_id: str, state: AgentState, at: float) -> None:
        at = float(at)

        def op(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT n, state, start_at FROM agent_states WHERE agent_id = ? AND end_at IS NULL",
                               (agent_id,)).fetchone()
            if row is not None:
                n, current, start_at = row
                if current == state:
                    return
                conn.execute("DELETE FROM agent_states WHERE n = ?", (n,))
                conn.executemany("INSERT INTO agent_states (agent_id, state, start_at, end_at) VALUES (?, ?, ?, ?)",
                                 [(agent_id, current, a, b) for a, b in pieces(start_at, max(at, start_at))])
            conn.execute("INSERT INTO agent_states (agent_id, state, start_at, end_at) VALUES (?, ?, ?, NULL)",
                         (agent_id, state, at))

        await self._writer.write(op)

    async def agent_state_totals(self, since: float, until: float, now: float,
                                 agent_ids: Collection[str] | None) -> dict[str, dict[str, float]]:
        scope, params = ("", []) if agent_ids is None else (
            "AND agent_id IN (SELECT value FROM json_each(?))", [dumps(sorted(agent_ids))])
        cut = min(float(now), float(until))
        # The open intervals (one per agent) through their own small index: left to itself the
        # planner reads them by start_at, every row of the log before the range's end.
        sql = f"""
            SELECT agent_id, state, TOTAL(MIN(COALESCE(end_at, :cut), :until) - MAX(start_at, :since))
            FROM (SELECT agent_id, state, start_at, end_at FROM agent_states
                  WHERE start_at >= :reach AND start_at < :until AND end_at IS NOT NULL {scope.replace('?', ':ids')}
                  UNION ALL
                  SELECT agent_id, state, start_at, end_at FROM agent_states INDEXED BY agent_states_open
                  WHERE end_at IS NULL AND start_at < :until {scope.replace('?', ':ids')})
            WHERE MIN(COALESCE(end_at, :cut), :until) > MAX(start_at, :since)
            GROUP BY agent_id, state
        """
        named: dict[str, Any] = {"since": float(since), "until": float(until), "cut": cut,
                                 "reach": float(since) - AGENT_STATE_PIECE_SECS}
        if params:
            named["ids"] = params[0]
        rows = await self._reader.read(lambda c: c.execute(sql, named).fetchall())
        out: dict[str, dict[str, float]] = {}
        for agent_id, state, secs in rows:
            out.setdefault(agent_id, {})[state] = secs
        return out


def migration_sql() -> str:
    """The tables and indexes reports read by (migration 8, store/sqlite/schema.py). IF NOT
    EXISTS: the migration keeps working if the integrator gives it another number."""
    return """
        CREATE INDEX IF NOT EXISTS sessions_queued ON sessions(queued_at);
        CREATE INDEX IF NOT EXISTS messages_agent_reply ON messages(session_id, ts)
            WHERE json_extract(doc, '$.author') = 'agent';
        CREATE TABLE IF NOT EXISTS agent_states (
            n INTEGER PRIMARY KEY, agent_id TEXT NOT NULL, state TEXT NOT NULL,
            start_at REAL NOT NULL, end_at REAL);
        CREATE INDEX IF NOT EXISTS agent_states_start ON agent_states(start_at);
        CREATE UNIQUE INDEX IF NOT EXISTS agent_states_open ON agent_states(agent_id) WHERE end_at IS NULL;
    """
