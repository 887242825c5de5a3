"""QA reviews (质检结果): a closed session scored against a rubric, the agent's answer, averages.

* **Scoring** (qa, admin): every criterion of the rubric gets a number from 0 to its ``max``
  (400 ``bad_field`` ``scores.<key>`` otherwise: missing, unknown, not a number, above the
  maximum); the total is the contract's Σ weight·value/max ÷ Σ weight × 100, kept unrounded;
  ``passed`` is total ≥ the rubric's pass mark. The review copies the rubric's criteria, pass mark
  and version, so a later edit of the rubric changes nothing here. A session is reviewed once
  it is closed and had an agent; the review belongs to that agent (the last one who held it).
  A work-queue item of the session is marked done by the review.
* **Who reads** (`list`): QA and admins every review; a supervisor those of the agents in their
  scope (`desk.access.AccessPolicy.scope`; one in no team: everyone's); an agent only their own
  (asking for another agent's is 403). Any other role: 403.
* **The agent answers** once: ``acknowledge`` (an optional note) or ``dispute`` (a note is
  required); only the reviewed agent may, only while the review is ``new`` (409 otherwise). QA
  (or an admin) closes a dispute with ``resolve`` and a note. All audited (``qa.review_*``).
* **Averages** per agent and per team over a time range, for QA and supervisors (scoped).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desk.access import AccessPolicy
from desk.errors import Forbidden, InvalidState, NotFoundError, ValidationError
from desk.qa.rubrics import is_number, score_total
from desk.roles import roles_of
from desk.teams import Teams
from store.base import Store
from store.qa_records import QAReviewRecord
from store.records import PublicUser

REVIEW_FIELDS = ("session_id", "rubric_id", "scores", "comment")
COMMENT_MAX_CHARS = 4000
NOTE_MAX_CHARS = 2000
REVIEW_ROLES = frozenset({"qa", "admin"})
READ_ALL_ROLES = frozenset({"qa", "admin"})
# Averages read reviews a page at a time, up to this many (a year of a big floor's reviews).
AVERAGES_MAX_REVIEWS = 200_000
AVERAGES_PAGE = 1000
RESPONSES = {"acknowledge": "acknowledged", "dispute": "disputed"}


def _note(body: dict[str, Any], required: bool) -> str:
    note = body.get("note", "")
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise ValidationError("note", "must be text")
    note = note.strip()
    if required and not note:
        raise ValidationError("note", "is required: say what you disagree with")
    if len(note) > NOTE_MAX_CHARS:
        raise ValidationError("note", f"is longer than {NOTE_MAX_CHARS} characters")
    return note


def check_scores(criteria: list[dict[str, Any]], scores: Any) -> dict[str, float]:
    """The scores of a review, each checked against its criterion's maximum."""
    if not isinstance(scores, dict):
        raise ValidationError("scores", "must be an object {criterion key: score}")
    known = {c["key"]: c for c in criteria}
    for key in scores:
        if key not in known:
            raise ValidationError(f"scores.{key}", "is not a criterion of this rubric")
    out: dict[str, float] = {}
    for key, c in known.items():
        if key not in scores:
            raise ValidationError(f"scores.{key}", "is required")
        value = scores[key]
        if not is_number(value):
            raise ValidationError(f"scores.{key}", "must be a number")
        if not 0 <= value <= c["max"]:
            raise ValidationError(f"scores.{key}", f"must be from 0 to {c['max']:g} (the criterion's maximum)")
        out[key] = value
    return out


class Reviews:
    def __init__(self, store: Store, access: AccessPolicy, teams: Teams, clock: Callable[[], float]) -> None:
        self.store = store
        self.access = access
        self.teams = teams
        self.clock = clock
        self.on_reviewed: Callable[[QAReviewRecord], Any] | None = None  # the work queue closes its item

    # -- scoring ----------------------------------------------------------------------------------
    async def create(self, user: PublicUser, body: dict[str, Any]) -> QAReviewRecord:
        if not roles_of(user) & REVIEW_ROLES:
            raise Forbidden("scoring a session needs the role qa or admin")
        for name in body:
            if name not in REVIEW_FIELDS:
                raise ValidationError(name, "is not a field of a review")
        session_id = body.get("session_id")
        if not isinstance(session_id, str) or not session_id:
            raise ValidationError("session_id", "is required")
        session = await self.store.get_session(session_id)
        if session is None:
            raise ValidationError("session_id", "no such session")
        if session["state"] != "closed":
            raise ValidationError("session_id", "is not closed yet: QA scores finished conversations")
        if not session.get("agent_id"):
            raise ValidationError("session_id", "had no agent: there is nobody to review")
        rubric_id = body.get("rubric_id")
        rubric = await self.store.get_qa_rubric(rubric_id) if isinstance(rubric_id, str) and rubric_id else None
        if rubric is None:
            raise ValidationError("rubric_id", "no such rubric")
        if not rubric["active"]:
            raise ValidationError("rubric_id", "is retired: it takes no new reviews")
        criteria = [dict(c) for c in rubric["criteria"]]
        scores = check_scores(criteria, body.get("scores"))
        comment = body.get("comment", "")
        if comment is None:
            comment = ""
        if not isinstance(comment, str):
            raise ValidationError("comment", "must be text")
        if len(comment) > COMMENT_MAX_CHARS:
            raise ValidationError("comment", f"is longer than {COMMENT_MAX_CHARS} characters")
        total = score_total(criteria, scores)
        review = await self.store.add_qa_review({
            "session_id": session_id, "agent_id": session["agent_id"], "rubric_id": rubric["id"],
            "rubric_name": rubric["name"], "rubric_version": rubric["version"], "criteria": criteria,
            "scores": scores, "total": total, "pass_mark": rubric["pass_mark"],
            "passed": total >= rubric["pass_mark"], "comment": comment.strip(),
            "reviewer_id": user.get("id"), "created_at": self.clock(), "status": "new"})
        await self._audit(user, "qa.review_create", review, {"total": total, "passed": review["passed"],
                                                             "rubric_version": rubric["version"]})
        if self.on_reviewed is not None:
            await self.on_reviewed(review)
        return review

    # -- reading ----------------------------------------------------------------------------------
    def agent_filter(self, user: PublicUser, agent: str | None) -> tuple[str | None, frozenset[str] | None]:
        """``(agent_id, agent_ids)`` a review search runs with for ``user`` (403 when not theirs)."""
        roles = roles_of(user)
        if roles & READ_ALL_ROLES:
            return agent, None
        if "supervisor" in roles:
            scope = self.access.supervisor_scope(user)
            if agent is not None and scope is not None and agent not in scope:
                raise Forbidden("you see the reviews of your teams' agents only")
            return agent, scope
        if "agent" in roles:
            if agent is not None and agent != user["id"]:
                raise Forbidden("an agent sees their own reviews only")
            return user["id"], None
        raise Forbidden("reading reviews needs the role qa, admin, supervisor or agent")

    async def search(self, user: PublicUser, agent: str | None = None, session_id: str | None = None,
                   status: str | None = None, since: float | None = None, until: float | None = None,
                   limit: int = 50, offset: int = 0) -> dict[str, Any]:
        agent_id, agent_ids = self.agent_filter(user, agent)
        total, reviews = await self.store.list_qa_reviews(
            agent_id=agent_id, session_id=session_id, agent_ids=agent_ids, status=status, since=since,
            until=until, limit=limit, offset=offset)
        return {"total": total, "reviews": await self._named(reviews)}

    async def _named(self, reviews: list[QAReviewRecord]) -> list[dict[str, Any]]:
        ids = {r.get("agent_id") for r in reviews} | {r.get("reviewer_id") for r in reviews}
        names = await self._names({i for i in ids if i})
        return [{**r, "agent_name": names.get(r.get("agent_id") or ""),
                 "reviewer_name": names.get(r.get("reviewer_id") or "")} for r in reviews]

    async def _names(self, user_ids: set[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for uid in sorted(user_ids):
            u = await self.store.get_user(uid)
            if u is not None:
                out[uid] = u.get("name") or u["username"]
        return out

    async def get(self, user: PublicUser, review_id: str) -> QAReviewRecord:
        review = await self.store.get_qa_review(review_id) if isinstance(review_id, str) and review_id else None
        if review is None:
            raise NotFoundError("no such review")
        agent_id, agent_ids = self.agent_filter(user, None)
        if (agent_id is not None and review["agent_id"] != agent_id) or (
                agent_ids is not None and review["agent_id"] not in agent_ids):
            raise NotFoundError("no such review")  # not theirs: as if it did not exist
        return review

    # -- answers ----------------------------------------------------------------------------------
    async def respond(self, user: PublicUser, review_id: str, body: dict[str, Any]) -> QAReviewRecord:
        for name in body:
            if name not in ("action", "note"):
                raise ValidationError(name, "is not a field of an answer to a review")
        action = body.get("action")
        if action not in RESPONSES:
            raise ValidationError("action", "must be acknowledge or dispute")
        note = _note(body, required=action == "dispute")
        review = await self.store.get_qa_review(review_id) if isinstance(review_id, str) and review_id else None
        if review is None or review["agent_id"] != user.get("id"):
            raise NotFoundError("no such review of yours")
        if review["status"] != "new":
            raise InvalidState(f"this review was {review['status']} already")
        updated = await self.store.update_qa_review(review_id, status=RESPONSES[action], response={
            "note": note, "at": self.clock(), "by": user.get("id")})
        await self._audit(user, f"qa.review_{action}", updated, {"note": note})
        return updated

    async def resolve(self, user: PublicUser, review_id: str, body: dict[str, Any]) -> QAReviewRecord:
        if not roles_of(user) & REVIEW_ROLES:
            raise Forbidden("resolving a dispute needs the role qa or admin")
        for name in body:
            if name != "note":
                raise ValidationError(name, "is not a field of a resolution")
        note = _note(body, required=True)
        review = await self.get(user, review_id)
        if review["status"] != "disputed":
            raise InvalidState("only a disputed review is resolved")
        updated = await self.store.update_qa_review(review_id, status="resolved", resolution={
            "note": note, "at": self.clock(), "by": user.get("id")})
        await self._audit(user, "qa.review_resolve", updated, {"note": note})
        return updated

    # -- averages ---------------------------------------------------------------------------------
    async def averages(self, user: PublicUser, since: float | None, until: float | None) -> dict[str, Any]:
        """Per agent and per team: ``reviews``, ``average`` (mean total), ``passed``."""
        if not roles_of(user) & (READ_ALL_ROLES | {"supervisor"}):
            raise Forbidden("QA averages are for qa, admin and supervisors")
        _, agent_ids = self.agent_filter(user, None)
        per_agent: dict[str, list[QAReviewRecord]] = {}
        offset = 0
        while offset < AVERAGES_MAX_REVIEWS:
            total, page = await self.store.list_qa_reviews(agent_ids=agent_ids, since=since, until=until,
                                                           limit=AVERAGES_PAGE, offset=offset)
            for r in page:
                per_agent.setdefault(r["agent_id"] or "", []).append(r)
            offset += len(page)
            if not page or offset >= total:
                break
        names = await self._names({a for a in per_agent if a})

        def figures(reviews: list[QAReviewRecord]) -> dict[str, Any]:
            n = len(reviews)
            return {"reviews": n, "average": sum(r["total"] for r in reviews) / n if n else None,
                    "passed": sum(1 for r in reviews if r["passed"])}

        agents = [{"agent_id": a, "name": names.get(a, a), **figures(rs)} for a, rs in per_agent.items()]
        agents.sort(key=lambda row: str(row["name"]).casefold())
        scope = agent_ids
        teams = []
        for team in self.teams.all():
            if scope is not None and not (set(team["members"]) & scope):
                continue
            rs = [r for m in team["members"] for r in per_agent.get(m, [])]
            teams.append({"team_id": team["id"], "name": team["name"], **figures(rs)})
        everyone = [r for rs in per_agent.values() for r in rs]
        return {"agents": agents, "teams": teams, "overall": figures(everyone)}

    async def _audit(self, user: PublicUser, action: str, review: QAReviewRecord, details: dict[str, Any]) -> None:
        await self.store.add_audit({"ts": self.clock(), "actor_id": user.get("id"), "action": action,
                                    "session_id": review["session_id"], "target": review["id"],
                                    "details": {"agent_id": review["agent_id"], **details}})
