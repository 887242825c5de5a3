"""Satisfaction (满意度): the survey after a close, the customer's score and comment, the live tally.

* **Sending.** When the admin's ``messages.survey`` text is not empty, a session an agent served
  (it was accepted) and that closes by the agent (``close``, reason ``closed``) or by the idle
  timeout (reason ``idle``) is sent the survey, through the reply budget like every system text
  (no reply left: no survey, and the session is not marked surveyed). Idle closes are surveyed
  too: a bank measures every served conversation, and an agent must not be able to avoid surveys
  by letting sessions time out. Sessions no agent served (the bot's, diversions, abandoned) are
  not surveyed. The session records ``survey: {"sent_at", "agent_id"}``.
* **Answering.** The customer's next message, within :data:`SURVEY_ANSWER_SECS` of the survey,
  when they have no open session: a digit 1–5 (full-width too, ``5分`` too) or 非常满意 / 满意 /
  一般 / 不满意 / 非常不满意 (5..1) is recorded as ``session.csat`` ``{"score", "at",
  "agent_id"}`` on the surveyed session and answered with ``survey_thanks``; it opens no new
  session (the message is kept in the surveyed session's transcript). A score followed by text in
  the same message (``4 回复很快``) records the text as the comment; otherwise the customer's next
  text within :data:`COMMENT_SECS` of the score is the comment (``csat.comment``, ``comment_at``).
  Anything else is a normal message (a new session as usual), as is a digit from a customer whose
  last session was not surveyed, whose survey expired, or who already answered.
* **Who writes.** ``csat`` and ``survey`` are fields of a closed session, not its state: this
  feature writes them itself (`desk.lifecycle.Lifecycle` stays the only writer of ``state``).
* **Who hears.** A ``csat`` event ``{"session_id", "skill", "agent_id", "score", "comment", "at"}``
  goes to the session's agent and to every supervisor and admin whose scope holds that agent;
  the wall carries ``csat`` per skill for today and the last hour (:class:`CsatTally`).
"""

from __future__ import annotations

import datetime
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from desk.accounts import Accounts
from desk.errors import DeskError
from desk.inbound import Processed
from desk.parts import DeskParts
from desk.roles import STAFF_ROLES, roles_of
from desk.transcripts import inbound_to_message
from store.records import NewMessage, SessionRecord
from wechat.budget import ReplyBudget

log = logging.getLogger("kefu.desk.satisfaction")

# PROTOCOL v2: the customer's next message within 10 minutes of the survey may be the answer.
SURVEY_ANSWER_SECS = 600.0
# A comment is the next text within 2 minutes of the score: long enough to type a sentence, short
# enough that a new question the customer asks later is not swallowed as a comment.
COMMENT_SECS = 120.0
COMMENT_MAX_CHARS = 500
# Closes that are surveyed (see the module docstring).
SURVEYED_CLOSES = frozenset({"closed", "idle"})
# The tally's windows: the last hour, and today since local midnight.
HOUR_SECS = 3600.0
DAY_SECS = 86400.0
PRUNE_EVERY = 500  # scores added between two forgettings of the old ones (with no wall drawn)
PRIME_PAGE = 500

WORD_SCORES = {"非常满意": 5, "满意": 4, "一般": 3, "不满意": 2, "非常不满意": 1}
_SCORE = re.compile(r"^([1-5])\s*[分星]?$")
_SCORE_AND_COMMENT = re.compile(r"^([1-5])\s*[分星]?[\s,，.。:：、;；!！\-—]+(.+)$", re.S)
_TRAILING = "。.!！~～ "


def parse_answer(text: str | None) -> tuple[int, str | None] | None:
    """``(score, comment)`` when ``text`` answers the survey, else None."""
    if not text:
        return None
    normal = unicodedata.normalize("NFKC", text).strip()
    bare = normal.rstrip(_TRAILING)
    if bare in WORD_SCORES:
        return WORD_SCORES[bare], None
    if m := _SCORE.match(bare):
        return int(m.group(1)), None
    if m := _SCORE_AND_COMMENT.match(normal):
        comment = m.group(2).strip()[:COMMENT_MAX_CHARS]
        return int(m.group(1)), comment or None
    for word in sorted(WORD_SCORES, key=len, reverse=True):  # 非常满意，谢谢
        if normal.startswith(word) and len(normal) > len(word) and normal[len(word)] in "，,。.!！ ":
            return WORD_SCORES[word], normal[len(word) + 1:].strip()[:COMMENT_MAX_CHARS] or None
    return None


def local_midnight(now: float) -> float:
    """Today's start in the server's time zone."""
    day = datetime.datetime.fromtimestamp(now).date()
    return datetime.datetime.combine(day, datetime.time()).timestamp()


@dataclass
class _Score:
    session_id: str
    skill: str
    agent_id: str | None
    score: int
    at: float


class CsatTally:
    """Scores of the last day in memory, for the wall: per skill, today and the last hour."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._scores: dict[str, _Score] = {}

    def add(self, session: SessionRecord) -> None:
        csat = session.get("csat") or {}
        if not isinstance(csat.get("score"), int):
            return
        self._scores[session["id"]] = _Score(session["id"], session.get("skill") or "", csat.get("agent_id"),
                                             int(csat["score"]), float(csat.get("at") or 0.0))
        # Forgotten here too, not only when a wall is drawn (a desk nobody watches kept every
        # score since it started); every so often, so adding stays cheap.
        if len(self._scores) % PRUNE_EVERY == 0:
            self._forget_old(self.clock())

    def _forget_old(self, now: float) -> None:
        for key in [k for k, s in self._scores.items() if s.at < now - DAY_SECS]:
            del self._scores[key]  # older than any window: forgotten

    def figures(self) -> dict[str, dict[str, Any]]:
        """``{skill: {"today": {"avg", "count"}, "hour": {"avg", "count"}}}``."""
        now = self.clock()
        midnight, hour = local_midnight(now), now - HOUR_SECS
        self._forget_old(now)
        out: dict[str, dict[str, Any]] = {}
        for s in self._scores.values():
            for window, since in (("today", midnight), ("hour", hour)):
                if s.at >= since:
                    fig = out.setdefault(s.skill, {"today": _empty(), "hour": _empty()})[window]
                    fig["sum"] += s.score
                    fig["count"] += 1
        for skill in out.values():
            for fig in skill.values():
                total = fig.pop("sum")
                fig["avg"] = round(total / fig["count"], 2) if fig["count"] else None
        return out


def _empty() -> dict[str, Any]:
    return {"sum": 0, "count": 0}


class Satisfaction:
    def __init__(self, parts: DeskParts) -> None:
        self.parts = parts
        self.store = parts.store
        self.clock = parts.clock
        self.tally = CsatTally(parts.clock)
        parts.lifecycle.followers.on_closed.append(self.session_closed)
        parts.wall.decorations.append(self._decorate_wall)

    async def prime(self) -> None:
        """Start-up: the scores of the last day (stored on their sessions) back into the tally."""
        # Sessions created in the last two days: one created earlier is rarely rated today.
        since = self.clock() - 2 * DAY_SECS
        offset = 0
        while True:
            _total, page = await self.store.search_sessions(since=since, limit=PRIME_PAGE, offset=offset)
            for session in page:
                self.tally.add(session)
            if len(page) < PRIME_PAGE:
                return
            offset += PRIME_PAGE

    def _decorate_wall(self, wall: dict[str, Any]) -> None:
        wall["csat"] = self.tally.figures()

    # -- sending ---------------------------------------------------------------------------------
    async def session_closed(self, session: SessionRecord, reason: str) -> None:
        """The lifecycle closed ``session``: send the survey when it is configured and applies."""
        if reason not in SURVEYED_CLOSES or not session.get("agent_id") or not session.get("accepted_at"):
            return
        text = await self.parts.texts.text("survey", session)
        if not text:
            return
        customer: Mapping[str, Any] = await self.store.get_customer(session["openid"]) or {}
        if not ReplyBudget.from_dict(customer.get("budget")).check(self.clock())[0]:
            return  # no reply left: not surveyed (a later digit is a normal message)
        try:
            await self.parts.replies.reply(session, text, author="system", user=None)
        except DeskError:
            return
        await self.store.update_session(session["id"], survey={"sent_at": self.clock(),
                                                               "agent_id": session.get("agent_id")})

    # -- answering (an inbound stage, before the bot and before a new session) -------------------
    async def answer_stage(self, work: Any) -> Processed | None:
        """A survey answer or comment is filed into the surveyed session and finishes the message."""
        if work.session is not None or work.message.is_event:
            return None
        text = work.message.content if work.message.msg_type == "text" else None
        if not text:
            return None
        session = await work.latest_session(self.store)
        if session is None:
            return None
        survey, csat = session.get("survey"), session.get("csat")
        if not survey or session["state"] != "closed":
            return None
        now = work.now
        if csat is None:
            answer = parse_answer(text)
            if answer is None or now - float(survey.get("sent_at") or 0.0) > SURVEY_ANSWER_SECS:
                return None
            score, comment = answer
            record: dict[str, Any] = {"score": score, "at": now, "agent_id": survey.get("agent_id")}
            if comment:
                record.update(comment=comment, comment_at=now)
            stored = await self._file(work, session, record)
            await self.parts.texts.tell(stored, "survey_thanks")
            await self._announce(stored)
            return Processed(session["id"], marked=True)
        if "comment" not in csat and now - float(csat.get("at") or 0.0) <= COMMENT_SECS:
            comment = unicodedata.normalize("NFKC", text).strip()[:COMMENT_MAX_CHARS]
            if not comment:
                return None
            stored = await self._file(work, session, {**csat, "comment": comment, "comment_at": now})
            await self._announce(stored)
            return Processed(session["id"], marked=True)
        return None

    async def _file(self, work: Any, session: SessionRecord, csat: dict[str, Any]) -> SessionRecord:
        _customer, stored, _message = await self.store.file_customer_message(
            work.openid, work.now, work.changes, session["id"], {"csat": csat},
            cast(NewMessage, inbound_to_message(work.key, work.message, session["id"], work.now)), inbound_key=work.key)
        return stored

    async def _announce(self, session: SessionRecord) -> None:
        """The score to the tally, the agent and the supervisors whose scope holds the agent."""
        self.tally.add(session)
        csat = session.get("csat") or {}
        agent_id = csat.get("agent_id")
        data = {"session_id": session["id"], "skill": session.get("skill"), "agent_id": agent_id,
                "score": csat.get("score"), "comment": csat.get("comment"), "at": csat.get("at")}
        targets = set(await self.supervisors_of(agent_id))
        if agent_id:
            targets.add(agent_id)
        await self.parts.audience.publish(sorted(targets), "csat", data)
        self.parts.watchers.queues_changed()  # the wall's figures move

    async def supervisors_of(self, agent_id: str | None) -> list[str]:
        """Supervisors and admins whose scope holds ``agent_id`` (everyone unscoped)."""
        out = []
        for user in await self.store.list_users():
            public = Accounts.public(user)
            if public["disabled"] or not roles_of(public) & STAFF_ROLES:
                continue
            scope = self.parts.access.scope(public)
            if scope is None or (agent_id is not None and agent_id in scope):
                out.append(user["id"])
        return out
