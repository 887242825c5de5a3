"""QA (质检) over HTTP: rubrics, reviews, the agents' answers, averages, the work queue; and the
export of one transcript (``GET /api/sessions/{id}/export``).

Thin: `desk.qa.QualityAssurance` owns who may do what, the validation, the totals and the
audit; `desk.transcript_export.TranscriptExport` the export. The role gates here only keep
callers with no business out early; the desk decides the rest (scopes, own reviews).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.api import MAX_PAGE, _QueryMixin
from handlers.base import AUTHENTICATED, roles
from handlers.openapi import ANY_OBJ, NUM, Op, Query, array, obj

if TYPE_CHECKING:
    from desk.accounts import Accounts
    from desk.qa import QualityAssurance
    from desk.transcript_export import TranscriptExport
    from server import Services

QA_READERS = roles("qa", "admin", "supervisor")

CRITERION = obj(("key", "label", "weight", "max"), key={"type": "string"}, label={"type": "string"},
                weight=NUM, max=NUM)


class _QAHandler(_QueryMixin):
    def initialize(self, accounts: Accounts, qa: QualityAssurance) -> None:
        super().initialize(accounts)
        self.qa = qa


class RubricsHandler(_QAHandler):
    access = QA_READERS
    api_doc = {"get": Op("The QA rubrics (评分表)", response=obj(("rubrics",), rubrics=array(ANY_OBJ)), tags=("qa",)),
               "post": Op("Create a rubric: weights > 0 adding up to 100, max > 0 per criterion, pass_mark 0–100",
                          roles=("admin",), request=obj(("name", "criteria"), name={"type": "string"},
                                                        criteria=array(CRITERION), pass_mark=NUM),
                          response=ANY_OBJ, status=201, errors=(400, 403, 409), tags=("qa",))}

    async def get(self) -> None:
        self.write_json(await self.qa.rubrics.list_all(self.current_user))

    async def post(self) -> None:
        rubric = await self.qa.rubrics.create(self.current_user, self.json_body())
        self.set_header("Location", f"/api/qa/rubrics/{rubric['id']}")
        self.write_json(rubric, status=201)


class RubricHandler(_QAHandler):
    access = QA_READERS
    api_path_params = ("rubric_id",)
    api_doc = {"get": Op("One rubric", response=ANY_OBJ, errors=(404,), tags=("qa",)),
               "patch": Op("Change a rubric (criteria or pass_mark: a new version; past reviews keep theirs)",
                           roles=("admin",), request=ANY_OBJ, response=ANY_OBJ, errors=(400, 403, 404, 409),
                           tags=("qa",))}

    async def get(self, rubric_id: str) -> None:
        self.write_json(await self.qa.rubrics.get(self.current_user, rubric_id))

    async def patch(self, rubric_id: str) -> None:
        self.write_json(await self.qa.rubrics.update(self.current_user, rubric_id, self.json_body()))


class ReviewsHandler(_QAHandler):
    access = AUTHENTICATED  # an agent reads their own; the desk decides
    api_doc = {"get": Op("QA reviews, newest first (qa, admin: all; supervisor: their teams'; agent: their own)",
                         query=(Query("agent"), Query("session_id"),
                                Query("status", description="new, acknowledged, disputed, resolved"),
                                Query("since", "number", "epoch seconds"), Query("until", "number", "epoch seconds"),
                                Query("limit", "integer"), Query("offset", "integer")),
                         response=obj(("reviews", "total"), reviews=array(ANY_OBJ), total={"type": "integer"}),
                         errors=(403,), tags=("qa",)),
               "post": Op("Score a closed session against a rubric; answers the total (0–100) and passed",
                          roles=("qa", "admin"),
                          request=obj(("session_id", "rubric_id", "scores"), session_id={"type": "string"},
                                      rubric_id={"type": "string"}, scores={"type": "object"},
                                      comment={"type": "string"}),
                          response=ANY_OBJ, status=201, errors=(400, 403), tags=("qa",))}

    async def get(self) -> None:
        self.write_json(await self.qa.reviews.search(
            self.current_user, agent=self.str_arg("agent"), session_id=self.str_arg("session_id"),
            status=self.str_arg("status"), since=self.float_arg("since"), until=self.float_arg("until"),
            limit=self.int_arg("limit", 50, 1, MAX_PAGE), offset=self.int_arg("offset", 0, 0, 10**9)))

    async def post(self) -> None:
        review = await self.qa.reviews.create(self.current_user, self.json_body())
        self.set_header("Location", f"/api/qa/reviews/{review['id']}")
        self.write_json(review, status=201)


class ReviewHandler(_QAHandler):
    access = AUTHENTICATED
    api_path_params = ("review_id",)
    api_doc = {"get": Op("One review (as the list's rules)", response=ANY_OBJ, errors=(404,), tags=("qa",))}

    async def get(self, review_id: str) -> None:
        self.write_json(await self.qa.reviews.get(self.current_user, review_id))


class ReviewRespondHandler(_QAHandler):
    access = AUTHENTICATED  # only the reviewed agent; the desk decides
    api_path_params = ("review_id",)
    api_doc = {"post": Op("The reviewed agent acknowledges or disputes (a note required) a new review",
                          request=obj(("action",), action={"type": "string", "enum": ["acknowledge", "dispute"]},
                                      note={"type": "string"}),
                          response=ANY_OBJ, errors=(400, 404, 409), tags=("qa",))}

    async def post(self, review_id: str) -> None:
        self.write_json(await self.qa.reviews.respond(self.current_user, review_id, self.json_body()))


class ReviewResolveHandler(_QAHandler):
    access = roles("qa", "admin")
    api_path_params = ("review_id",)
    api_doc = {"post": Op("QA answers a dispute (a note required): the review is resolved",
                          request=obj(("note",), note={"type": "string"}), response=ANY_OBJ,
                          errors=(400, 404, 409), tags=("qa",))}

    async def post(self, review_id: str) -> None:
        self.write_json(await self.qa.reviews.resolve(self.current_user, review_id, self.json_body()))


class AveragesHandler(_QAHandler):
    access = QA_READERS
    api_doc = {"get": Op("Mean QA total per agent and per team (supervisors: their teams')",
                         query=(Query("since", "number", "epoch seconds"), Query("until", "number", "epoch seconds")),
                         response=obj(("agents", "teams", "overall"), agents=array(ANY_OBJ), teams=array(ANY_OBJ),
                                      overall=ANY_OBJ), tags=("qa",))}

    async def get(self) -> None:
        self.write_json(await self.qa.reviews.averages(self.current_user, self.float_arg("since"),
                                                       self.float_arg("until")))


class QueueHandler(_QAHandler):
    access = QA_READERS
    api_doc = {"get": Op("The QA work queue, oldest session first (qa: view=mine by default)",
                         query=(Query("view", description="mine, unassigned, all"),
                                Query("status", description="open, done"), Query("limit", "integer"),
                                Query("offset", "integer")),
                         response=obj(("items", "total", "view"), items=array(ANY_OBJ)), errors=(400,),
                         tags=("qa",)),
               "post": Op("Put one closed session in the work queue by hand",
                          request=obj(("session_id",), session_id={"type": "string"}), response=ANY_OBJ,
                          status=201, errors=(400,), tags=("qa",))}

    async def get(self) -> None:
        answer = await self.qa.queue.items(self.current_user, self.str_arg("view"), self.str_arg("status"),
                                          self.int_arg("limit", 50, 1, MAX_PAGE),
                                          self.int_arg("offset", 0, 0, 10**9))
        answer["sampling"] = await self.qa.queue.settings.get("qa_sampling")
        self.write_json(answer)

    async def post(self) -> None:
        self.write_json(await self.qa.queue.add(self.current_user, self.json_body()), status=201)


class QueueItemHandler(_QAHandler):
    access = QA_READERS
    api_path_params = ("item_id",)
    api_doc = {"patch": Op("Assign a work-queue item to a QA user (null: unassigned); QA claims or hands back",
                           request=obj(("assignee_id",), assignee_id={"type": ["string", "null"]}),
                           response=ANY_OBJ, errors=(400, 403, 404), tags=("qa",))}

    async def patch(self, item_id: str) -> None:
        self.write_json(await self.qa.queue.assign(self.current_user, item_id, self.json_body()))


class QueueSampleHandler(_QAHandler):
    access = roles("qa", "admin")
    api_doc = {"post": Op("Run the sampler now (it runs every minute by itself)",
                          response=obj(("added",), added={"type": "integer"}), tags=("qa",))}

    async def post(self) -> None:
        self.write_json({"added": await self.qa.queue.sample()})


class SessionExportHandler(_QueryMixin):
    access = AUTHENTICATED  # who may read the transcript may export it (desk.access decides)
    api_path_params = ("session_id",)
    api_doc = {"get": Op("One transcript as a file for a complaint file (audited)",
                         query=(Query("format", description="txt (default), csv or xlsx"),
                                Query("tz", description="IANA time zone of the times, default UTC")),
                         response={"description": "the file (Content-Disposition: attachment)"},
                         errors=(400, 403, 404), tags=("sessions",))}

    def initialize(self, accounts: Accounts, exports: TranscriptExport) -> None:
        super().initialize(accounts)
        self.exports = exports

    async def get(self, session_id: str) -> None:
        name, content_type, body = await self.exports.export(
            self.current_user, session_id, self.str_arg("format"), self.str_arg("tz"))
        self.set_header("Content-Type", content_type)
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.finish(body)


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"accounts": services.accounts, "qa": services.desk.qa}
    return [
        (r"/api/qa/rubrics", RubricsHandler, args),
        (r"/api/qa/rubrics/([^/]+)", RubricHandler, args),
        (r"/api/qa/reviews", ReviewsHandler, args),
        (r"/api/qa/reviews/([^/]+)", ReviewHandler, args),
        (r"/api/qa/reviews/([^/]+)/respond", ReviewRespondHandler, args),
        (r"/api/qa/reviews/([^/]+)/resolve", ReviewResolveHandler, args),
        (r"/api/qa/averages", AveragesHandler, args),
        (r"/api/qa/queue", QueueHandler, args),
        (r"/api/qa/queue/sample", QueueSampleHandler, args),
        (r"/api/qa/queue/([^/]+)", QueueItemHandler, args),
        (r"/api/sessions/([^/]+)/export", SessionExportHandler,
         {"accounts": services.accounts, "exports": services.desk.exports}),
    ]
