"""Reports (运营报表) on MongoDB: the aggregation pipelines and indexes `store.mongo.MongoStore` uses.

The report is one pipeline over ``sessions``: ``$match`` on ``queued_at`` (index
``queued_at``; with a team's scope also ``agents.0``), ``$lookup`` of the session's messages
through the unique ``session_id, seq`` index, the first ``author: "agent"`` message kept, and one
``$group`` per key. The same stages run on mongomock (the contract suite), so every operator
here is one mongomock implements (no ``$lookup`` with ``let``, no ``$reduce``): the messages are
looked up whole and filtered, which a real server does from the index, a few documents per session.

The agent-state log is the ``agent_states`` collection of intervals ``{agent_id, state,
start_at, end_at}``; the open interval of an agent carries ``open: true`` (a unique partial index
on ``agent_id``), closed ones are cut at multiples of `AGENT_STATE_PIECE_SECS` so a range finds
its pieces through the ``start_at`` index.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from pymongo import ASCENDING

from .records import (
    ABANDONED_REASONS,
    AGENT_STATE_PIECE_SECS,
    REPORT_BUCKET_SECS,
    ReportGroup,
    ReportPartial,
)


async def create_indexes(db: Any) -> None:
    await db.sessions.create_index([("queued_at", ASCENDING)], name="queued_at")
    await db.agent_states.create_index([("start_at", ASCENDING)], name="start_at")
    await db.agent_states.create_index([("agent_id", ASCENDING)], name="open", unique=True,
                                       partialFilterExpression={"open": True})


def _match(since: float, until: float, agent_ids: Collection[str] | None) -> dict[str, Any]:
    match: dict[str, Any] = {"queued_at": {"$gte": float(since), "$lt": float(until)}, "state": {"$ne": "bot"}}
    if agent_ids is not None:
        match["agents.0"] = {"$in": sorted(agent_ids)}
    return match


def _sla(sla_secs: Mapping[str, float], default: float) -> Any:
    if not sla_secs:
        return {"$literal": float(default)}
    return {"$switch": {"branches": [{"case": {"$eq": ["$skill", skill]}, "then": float(secs)}
                                     for skill, secs in sla_secs.items()],
                        "default": float(default)}}


def _if(cond: Any, then: Any = 1, other: Any = 0) -> Any:
    return {"$cond": [cond, then, other]}


_KEYS: dict[str, Any] = {"skill": "$skill", "agent": "$first_agent",
                         "bucket": {"$floor": {"$divide": ["$q", REPORT_BUCKET_SECS]}}}


def partials_pipeline(since: float, until: float, group: ReportGroup, sla_secs: Mapping[str, float],
                      default_sla_secs: float, agent_ids: Collection[str] | None) -> list[dict[str, Any]]:
    answered = {"$ne": ["$acc", None]}
    closed = {"$and": [answered, {"$eq": ["$state", "closed"]}, {"$ne": ["$cl", None]}]}
    abandoned = {"$and": [{"$eq": ["$acc", None]}, {"$in": ["$state", ["closed", "diverted"]]},
                          {"$in": ["$reason", list(ABANDONED_REASONS)]}]}
    return [
        {"$match": _match(since, until, agent_ids)},
        {"$project": {
            "skill": 1, "state": 1, "q": "$queued_at",
            "acc": {"$ifNull": ["$accepted_at", None]}, "cl": {"$ifNull": ["$closed_at", None]},
            "reason": {"$ifNull": ["$close_reason", None]},
            "first_agent": {"$ifNull": [{"$arrayElemAt": ["$agents", 0]}, None]},
            "ntr": {"$size": {"$ifNull": ["$transfers", []]}},
            "csat": {"$ifNull": ["$csat.score", None]},
            "sla": _sla(sla_secs, default_sla_secs)}},
        {"$lookup": {"from": "messages", "localField": "_id", "foreignField": "session_id", "as": "msgs"}},
        {"$addFields": {"msgs": {"$filter": {"input": "$msgs", "as": "m",
                                             "cond": {"$eq": ["$$m.author", "agent"]}}}}},
        {"$addFields": {"fr": {"$min": "$msgs.ts"}, "wait": {"$subtract": ["$acc", "$q"]}}},
        {"$addFields": {"fr": _if({"$and": [answered, {"$ne": [{"$ifNull": ["$fr", None]}, None]}]},
                                  "$fr", None)}},
        {"$group": {
            "_id": _KEYS[group],
            "offered": {"$sum": 1},
            "answered": {"$sum": _if(answered)},
            "answered_in_sla": {"$sum": _if({"$and": [answered, {"$lte": ["$wait", "$sla"]}]})},
            "abandoned": {"$sum": _if(abandoned)},
            "abandoned_after_sla": {"$sum": _if({"$and": [abandoned,
                                                          {"$gt": [{"$subtract": ["$cl", "$q"]}, "$sla"]}]})},
            "wait_sum": {"$sum": _if(answered, "$wait", 0)},
            "handle_sum": {"$sum": _if(closed, {"$subtract": ["$cl", "$acc"]}, 0)},
            "handle_n": {"$sum": _if(closed)},
            "frt_sum": {"$sum": _if({"$ne": ["$fr", None]}, {"$subtract": ["$fr", "$acc"]}, 0)},
            "frt_n": {"$sum": _if({"$ne": ["$fr", None]})},
            "transfers": {"$sum": "$ntr"},
            "csat_sum": {"$sum": _if({"$ne": ["$csat", None]}, "$csat", 0)},
            "csat_n": {"$sum": _if({"$ne": ["$csat", None]})}}},
    ]


def partial_of(doc: Mapping[str, Any], group: ReportGroup) -> ReportPartial:
    key = doc["_id"]
    if group == "bucket" and key is not None:
        key = str(int(key))
    return {"key": key, "offered": int(doc["offered"]), "answered": int(doc["answered"]),
            "answered_in_sla": int(doc["answered_in_sla"]), "abandoned": int(doc["abandoned"]),
            "abandoned_after_sla": int(doc["abandoned_after_sla"]), "wait_sum": float(doc["wait_sum"]),
            "handle_sum": float(doc["handle_sum"]), "handle_n": int(doc["handle_n"]),
            "frt_sum": float(doc["frt_sum"]), "frt_n": int(doc["frt_n"]), "transfers": int(doc["transfers"]),
            "csat_sum": float(doc["csat_sum"]), "csat_n": int(doc["csat_n"])}


def session_keys_query(since: float, until: float, agent_ids: Collection[str] | None) -> dict[str, Any]:
    return {**_match(since, until, agent_ids), "accepted_at": {"$ne": None}, "state": "closed"}


def session_key(doc: Mapping[str, Any], group: ReportGroup) -> str | None:
    if group == "skill":
        return doc.get("skill")
    if group == "agent":
        agents = doc.get("agents") or []
        return agents[0] if agents else None
    return str(math.floor(float(doc["queued_at"]) / REPORT_BUCKET_SECS))




def state_totals_pipeline(since: float, until: float, now: float,
                          agent_ids: Collection[str] | None) -> list[dict[str, Any]]:
    cut = min(float(now), float(until))
    scope: dict[str, Any] = {} if agent_ids is None else {"agent_id": {"$in": sorted(agent_ids)}}
    secs = {"$subtract": [{"$min": [{"$ifNull": ["$end_at", cut]}, float(until)]}, {"$max": ["$start_at", float(since)]}]}
    return [
        {"$match": {"$or": [
            {**scope, "start_at": {"$gte": float(since) - AGENT_STATE_PIECE_SECS, "$lt": float(until)},
             "open": {"$exists": False}},
            {**scope, "open": True, "start_at": {"$lt": float(until)}}]}},
        {"$project": {"agent_id": 1, "state": 1, "secs": secs}},
        {"$match": {"secs": {"$gt": 0}}},
        {"$group": {"_id": {"agent_id": "$agent_id", "state": "$state"}, "secs": {"$sum": "$secs"}}},
    ]
