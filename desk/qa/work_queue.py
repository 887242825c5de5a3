"""The QA work queue (质检任务): which closed sessions QA reviews, and who reviews them.

**Sampling** (the setting ``qa_sampling``, admin, validated, versioned, audited, applied live):

* ``percent`` (0–100): about this share of **each agent's** closed sessions. Chosen by a hash
  of the session id, so the choice is the same however often the sampler runs (a restart adds
  nothing twice) and an agent cannot tell which of their sessions will be picked;
* ``csat_at_most`` (1–5 or null): every session whose survey score (``session.csat.score``,
  written by the satisfaction feature) is at most this;
* ``every_transfer`` (bool): every session that was transferred;
* ``auto_assign`` (bool): a new item goes to the QA user with the fewest open items (ties: by
  username); off: items wait unassigned until someone assigns or claims them.

The sampler runs every minute over the sessions closed since its last run, once they are
`CSAT_WAIT_SECS` old (the survey answer may come up to 10 minutes after close), so the CSAT
rule sees the answer. A session gets at most one item (the store refuses a second, atomically);
its ``reasons`` say why (``sample``, ``csat``, ``transfer``; ``manual`` when QA adds one).

**Who sees and assigns:** a QA user sees their items and the unassigned pool and may claim an
unassigned item or hand back their own; admins and supervisors (scoped to their teams'
agents) see every item and assign any item to any QA user. Assignments are audited.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from desk.access import AccessPolicy
from desk.errors import Forbidden, NotFoundError, ValidationError
from desk.roles import roles_of
from desk.settings import Settings, SettingSpec
from store.base import DuplicateError, Store
from store.qa_records import QAItemRecord, QAReviewRecord
from store.records import PublicUser, SessionRecord

log = logging.getLogger("kefu.qa")

SETTING = "qa_sampling"
CURSOR_KEY = "qa_sampling_cursor"  # the close time the sampler has read up to (epoch seconds)
# The survey takes answers for 10 minutes after close (PROTOCOL.md); a minute more for the
# answer to be written.
CSAT_WAIT_SECS = 11 * 60
SAMPLE_EVERY_SECS = 60.0
# A first run (or a new install) looks this far back, not at the whole history.
FIRST_RUN_LOOKBACK_SECS = 7 * 86400
SAMPLE_BATCH = 500
SAMPLING_FIELDS = ("percent", "csat_at_most", "every_transfer", "auto_assign")
VIEWS = ("mine", "unassigned", "all")
MANAGE_ROLES = frozenset({"admin", "supervisor"})


def default_sampling() -> dict[str, Any]:
    return {"percent": 10, "csat_at_most": 2, "every_transfer": True, "auto_assign": True}


def validate_sampling(value: Any, current: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError("qa_sampling", "must be an object {percent, csat_at_most, every_transfer, auto_assign}")
    out = {**default_sampling(), **(current if isinstance(current, dict) else {})}
    for name, v in value.items():
        if name not in SAMPLING_FIELDS:
            raise ValidationError(name, "is not a field of the QA sampling")
        if name == "percent":
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 100:
                raise ValidationError("percent", "must be a number from 0 to 100")
        elif name == "csat_at_most":
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 5):
                raise ValidationError("csat_at_most", "must be a score from 1 to 5, or null (no CSAT rule)")
        elif not isinstance(v, bool):
            raise ValidationError(name, "must be true or false")
        out[name] = v
    return out


def in_sample(session_id: str, percent: float) -> bool:
    """Whether the session falls in a ``percent`` sample: the same answer every time."""
    bucket = int.from_bytes(hashlib.sha256(session_id.encode("utf-8")).digest()[:4], "big") % 10000
    return bucket < percent * 100


def reasons_for(session: SessionRecord, rules: dict[str, Any]) -> list[str]:
    """Why the sampling rules put a closed session in the work queue (empty: they do not)."""
    if not session.get("agent_id"):
        return []  # nobody to review (the bot's, or abandoned in the queue)
    out = []
    csat = session.get("csat")  # type: ignore[misc]
    score = csat.get("score") if isinstance(csat, dict) else None
    if rules.get("csat_at_most") is not None and isinstance(score, (int, float)) and score <= rules["csat_at_most"]:
        out.append("csat")
    if rules.get("every_transfer") and session.get("transfers"):
        out.append("transfer")
    if in_sample(session["id"], float(rules.get("percent") or 0)):
        out.append("sample")
    return out


class WorkQueue:
    def __init__(self, store: Store, settings: Settings, access: AccessPolicy, clock: Callable[[], float]) -> None:
        self.store = store
        self.settings = settings
        self.access = access
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        settings.define(SettingSpec(SETTING, default=default_sampling, validate=validate_sampling))

    # -- the sampler ------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_EVERY_SECS)
            try:
                await self.sample()
            except Exception:
                log.exception("QA sampling failed")

    async def sample(self) -> int:
        """Queue the sessions the rules pick among those closed since the last run (and at least
        `CSAT_WAIT_SECS` ago); returns how many items were added."""
        async with self._lock:
            rules = await self.settings.get(SETTING)
            horizon = self.clock() - CSAT_WAIT_SECS
            cursor = await self.store.get_setting(CURSOR_KEY, None)
            since = float(cursor) if isinstance(cursor, (int, float)) else horizon - FIRST_RUN_LOOKBACK_SECS
            added = 0
            load: dict[str, int] | None = None
            while since < horizon:
                batch = await self.store.closed_sessions(since, horizon, limit=SAMPLE_BATCH)
                for session in batch:
                    reasons = reasons_for(session, rules)
                    if not reasons:
                        continue
                    if rules.get("auto_assign") and load is None:
                        load = await self._open_load()
                    who = self._least_loaded(load) if rules.get("auto_assign") else None
                    if await self._add(session, reasons, who):
                        added += 1
                        if load is not None and who is not None:
                            load[who] += 1
                if len(batch) < SAMPLE_BATCH:
                    since = horizon
                else:  # a full batch: go on after its last close time (re-reading ties is harmless)
                    last = float(batch[-1]["closed_at"] or since)
                    since = last if last > since else since + 1e-3
            await self.store.set_setting(CURSOR_KEY, since)
        if added:
            log.info("QA work queue sampled", extra={"fields": {"added": added}})
        return added

    async def _qa_users(self) -> list[dict[str, Any]]:
        return sorted((dict(u) for u in await self.store.list_users()
                       if "qa" in (u.get("roles") or ()) and not u.get("disabled")),
                      key=lambda u: str(u["username"]).casefold())

    async def _open_load(self) -> dict[str, int]:
        load: dict[str, int] = {}
        for u in await self._qa_users():
            load[u["id"]] = (await self.store.list_qa_items(status="open", assignee_id=u["id"], limit=0))[0]
        return load

    @staticmethod
    def _least_loaded(load: dict[str, int] | None) -> str | None:
        if not load:
            return None
        return min(load, key=lambda uid: load[uid])  # dicts keep the username order for ties

    async def _add(self, session: SessionRecord, reasons: list[str], assignee: str | None) -> QAItemRecord | None:
        try:
            return await self.store.add_qa_item({
                "session_id": session["id"], "agent_id": session.get("agent_id"), "skill": session.get("skill"),
                "closed_at": session.get("closed_at"), "reasons": reasons, "assignee_id": assignee,
                "created_at": self.clock()})
        except DuplicateError:
            return None  # sampled before (or added by hand)

    # -- people -----------------------------------------------------------------------------------
    def _scope(self, user: PublicUser) -> frozenset[str] | None:
        roles = roles_of(user)
        if roles & {"admin", "qa"}:
            return None
        if "supervisor" in roles:
            return self.access.supervisor_scope(user)
        raise Forbidden("the QA work queue is for qa, admin and supervisors")

    async def items(self, user: PublicUser, view: str | None, status: str | None, limit: int,
                   offset: int) -> dict[str, Any]:
        scope = self._scope(user)
        is_qa = "qa" in roles_of(user) and not roles_of(user) & MANAGE_ROLES
        view = view or ("mine" if is_qa else "all")
        if view not in VIEWS:
            raise ValidationError("view", f"must be one of {', '.join(VIEWS)}")
        if status is not None and status not in ("open", "done"):
            raise ValidationError("status", "must be open or done")
        total, items = await self.store.list_qa_items(
            status=status, assignee_id=user["id"] if view == "mine" else None, unassigned=view == "unassigned",
            agent_ids=scope, limit=limit, offset=offset)
        return {"total": total, "view": view, "items": await self._described(items)}

    async def _described(self, items: list[QAItemRecord]) -> list[dict[str, Any]]:
        names: dict[str, str] = {}
        out = []
        for item in items:
            for uid in (item.get("agent_id"), item.get("assignee_id")):
                if uid and uid not in names:
                    u = await self.store.get_user(uid)
                    names[uid] = (u.get("name") or u["username"]) if u else uid
            session = await self.store.get_session(item["session_id"])
            out.append({**item, "agent_name": names.get(item.get("agent_id") or ""),
                        "assignee_name": names.get(item.get("assignee_id") or ""),
                        "openid": session["openid"] if session else None,
                        "csat": session.get("csat") if session else None,  # type: ignore[misc]
                        "wrapup": session.get("wrapup") if session else None})
        return out

    async def add(self, user: PublicUser, body: dict[str, Any]) -> QAItemRecord:
        """QA (or an admin, a supervisor) puts one closed session in the queue by hand."""
        self._scope(user)
        session_id = body.get("session_id")
        session = await self.store.get_session(session_id) if isinstance(session_id, str) and session_id else None
        if session is None or not await self.access.can_read_session(user, session):
            raise ValidationError("session_id", "no such session")
        if session["state"] != "closed" or not session.get("agent_id"):
            raise ValidationError("session_id", "is not a closed session with an agent")
        assignee = user["id"] if "qa" in roles_of(user) else None
        item = await self._add(session, ["manual"], assignee)
        if item is None:
            found = await self.store.qa_item_for_session(session["id"])
            assert found is not None
            return found
        await self._audit(user, "qa.item_add", item, {"assignee_id": assignee})
        return item

    async def assign(self, user: PublicUser, item_id: str, body: dict[str, Any]) -> QAItemRecord:
        scope = self._scope(user)
        for name in body:
            if name != "assignee_id":
                raise ValidationError(name, "is not a field of a work-queue item")
        if "assignee_id" not in body:
            raise ValidationError("assignee_id", "is required (a QA user's id, or null)")
        item = await self.store.get_qa_item(item_id) if isinstance(item_id, str) and item_id else None
        if item is None or (scope is not None and item.get("agent_id") not in scope):
            raise NotFoundError("no such work-queue item")
        to = body["assignee_id"]
        if to is not None:
            if not isinstance(to, str) or to not in {u["id"] for u in await self._qa_users()}:
                raise ValidationError("assignee_id", "must be the id of an enabled user with the role qa")
        if not roles_of(user) & MANAGE_ROLES:
            # QA claims an unassigned item for themselves or hands back their own.
            mine = item.get("assignee_id") == user["id"]
            if not ((to == user["id"] and item.get("assignee_id") is None) or (to is None and mine)):
                raise Forbidden("QA claims unassigned items and hands back their own; a supervisor assigns")
        if to == item.get("assignee_id"):
            return item
        updated = await self.store.update_qa_item(item["id"], assignee_id=to)
        await self._audit(user, "qa.item_assign", updated, {"before": item.get("assignee_id"), "after": to})
        return updated

    async def reviewed(self, review: QAReviewRecord) -> None:
        """A review of the session closes its open item (a session QA reviewed straight from
        the transcripts may have none)."""
        item = await self.store.qa_item_for_session(review["session_id"])
        if item is not None and item["status"] == "open":
            await self.store.update_qa_item(item["id"], status="done", review_id=review["id"], done_at=self.clock())

    async def _audit(self, user: PublicUser, action: str, item: QAItemRecord, details: dict[str, Any]) -> None:
        await self.store.add_audit({"ts": self.clock(), "actor_id": user.get("id"), "action": action,
                                    "session_id": item["session_id"], "target": item["id"], "details": details})
