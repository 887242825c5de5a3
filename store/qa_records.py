"""The QA feature's records (质检): rubrics, reviews and work-queue items, their types and shapes.

Kept beside `store.records` rather than in it: the QA feature owns them (desk/qa/). Each
``qa_*_record`` fills the defaults of a record a caller passes in, so both backends store and
return exactly the same keys (extra keys are kept, as for every record).

* A **rubric** (评分表) ``{id, name, criteria: [{key, label, weight, max}], pass_mark, version,
  active, …}``. ``version`` goes up when its criteria or pass mark change; a review keeps a copy
  of the criteria it was scored with, so an edit never changes a past total.
* A **review** ``{id, session_id, agent_id, rubric_id, rubric_version, criteria, scores, total,
  pass_mark, passed, comment, reviewer_id, created_at, status, response, resolution}``; status
  ``new`` → ``acknowledged`` | ``disputed`` (by the agent) → ``resolved`` (by QA, after a dispute).
* A **work-queue item** ``{id, session_id, agent_id, skill, closed_at, reasons, assignee_id,
  status, created_at, review_id, done_at}``: one per session; status ``open`` or ``done``.
"""

from typing import Any, Literal, NotRequired, TypedDict, cast, get_args

from .base import _now, copy_json, new_id

QAReviewStatus = Literal["new", "acknowledged", "disputed", "resolved"]
QA_REVIEW_STATUSES: tuple[QAReviewStatus, ...] = get_args(QAReviewStatus)
QAItemStatus = Literal["open", "done"]
QA_ITEM_STATUSES: tuple[QAItemStatus, ...] = get_args(QAItemStatus)


class QACriterion(TypedDict):
    key: str
    label: str
    weight: float
    max: float


class QARubricRecord(TypedDict):
    id: str
    name: str
    criteria: list[QACriterion]
    pass_mark: float
    version: int
    active: bool
    created_at: float
    created_by: str | None
    updated_at: float | None
    updated_by: str | None


class QANote(TypedDict):
    note: str
    at: float
    by: str | None


class QAReviewRecord(TypedDict):
    id: str
    session_id: str
    agent_id: str | None
    rubric_id: str
    rubric_name: str
    rubric_version: int
    criteria: list[QACriterion]
    scores: dict[str, float]
    total: float
    pass_mark: float
    passed: bool
    comment: str
    reviewer_id: str | None
    created_at: float
    status: QAReviewStatus
    response: QANote | None  # the agent's acknowledgement or dispute
    resolution: QANote | None  # QA's answer to a dispute
    item_id: NotRequired[str | None]


class QAItemRecord(TypedDict):
    id: str
    session_id: str
    agent_id: str | None
    skill: str | None
    closed_at: float | None
    reasons: list[str]  # "sample", "csat", "transfer", "manual"
    assignee_id: str | None
    status: QAItemStatus
    created_at: float
    review_id: str | None
    done_at: float | None


# What callers pass in: any subset (a store fills the rest); loosely typed on purpose, the desk
# validates every field a person sends before it reaches a store.
QARubricFields = dict[str, Any]
QAReviewFields = dict[str, Any]
QAItemFields = dict[str, Any]


def qa_name_key(name: str) -> str:
    """What makes two rubric names the same: case and surrounding spaces do not count."""
    return name.strip().casefold()


def qa_rubric_record(data: QARubricFields) -> QARubricRecord:
    if not data.get("name") or not isinstance(data.get("criteria"), list):
        raise ValueError("a rubric needs a name and criteria")
    rec: dict[str, Any] = {"id": None, "name": None, "criteria": [], "pass_mark": 60.0, "version": 1,
                           "active": True, "created_at": None, "created_by": None,
                           "updated_at": None, "updated_by": None}
    rec.update(copy_json(data))
    rec["id"] = rec["id"] or new_id()
    rec["created_at"] = _now(rec["created_at"])
    return cast(QARubricRecord, rec)


def qa_review_record(data: QAReviewFields) -> QAReviewRecord:
    if not data.get("session_id") or not data.get("rubric_id") or not isinstance(data.get("total"), (int, float)):
        raise ValueError("a review needs a session_id, a rubric_id and a total")
    rec: dict[str, Any] = {"id": None, "session_id": None, "agent_id": None, "rubric_id": None,
                           "rubric_name": "", "rubric_version": 1, "criteria": [], "scores": {},
                           "total": None, "pass_mark": 60.0, "passed": False, "comment": "",
                           "reviewer_id": None, "created_at": None, "status": "new",
                           "response": None, "resolution": None}
    rec.update(copy_json(data))
    rec["id"] = rec["id"] or new_id()
    rec["created_at"] = _now(rec["created_at"])
    rec["total"] = float(rec["total"])
    if rec["status"] not in QA_REVIEW_STATUSES:
        raise ValueError(f"unknown review status {rec['status']!r}")
    return cast(QAReviewRecord, rec)


def qa_item_record(data: QAItemFields) -> QAItemRecord:
    if not data.get("session_id"):
        raise ValueError("a work-queue item needs a session_id")
    rec: dict[str, Any] = {"id": None, "session_id": None, "agent_id": None, "skill": None,
                           "closed_at": None, "reasons": [], "assignee_id": None, "status": "open",
                           "created_at": None, "review_id": None, "done_at": None}
    rec.update(copy_json(data))
    rec["id"] = rec["id"] or new_id()
    rec["created_at"] = _now(rec["created_at"])
    if rec["status"] not in QA_ITEM_STATUSES:
        raise ValueError(f"unknown work-queue item status {rec['status']!r}")
    return cast(QAItemRecord, rec)


def check_qa_update(kind: str, fields: dict[str, Any], frozen: tuple[str, ...]) -> dict[str, Any]:
    """Refuse changes to identity fields and unknown statuses; a private copy of the fields."""
    bad = [f for f in frozen if f in fields]
    if bad:
        raise ValueError(f"cannot change {', '.join(bad)} of a {kind}")
    if kind == "review" and "status" in fields and fields["status"] not in QA_REVIEW_STATUSES:
        raise ValueError(f"unknown review status {fields['status']!r}")
    if kind == "work-queue item" and "status" in fields and fields["status"] not in QA_ITEM_STATUSES:
        raise ValueError(f"unknown work-queue item status {fields['status']!r}")
    out: dict[str, Any] = copy_json(fields)
    return out
