"""The bot's knowledge base over HTTP (admin): ``GET``/``POST /api/bot/answers``,
``PATCH``/``DELETE /api/bot/answers/{id}``, ``POST /api/bot/try`` (the admin page's "try a
question"), ``POST /api/bot/import`` (a CSV or XLSX file as the body; ``dry_run`` previews) and
``GET /api/bot/import/template`` (a file to start from). Thin: `desk.bot_kb` and
`desk.bot_import` validate (400 bad_field naming the field, or the file's row and column), and
the setting ``bot_answers`` versions and audits every change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desk import bot_import
from desk.bot_kb import SKILL_MAX_CHARS
from desk.errors import ValidationError
from handlers.base import APIHandler
from handlers.openapi import ANY_OBJ, Op, Query, array, obj

if TYPE_CHECKING:
    from desk.accounts import Accounts
    from desk.bot import Bot
    from server import Services

ANSWER = obj(("question", "answer"), question={"type": "string"}, similar=array({"type": "string"}),
             keywords=array({"type": "string"}), answer={"type": "string"}, skills=array({"type": "string"}))


class _BotHandler(APIHandler):
    access = frozenset({"admin"})

    def initialize(self, accounts: Accounts, bot: Bot) -> None:
        super().initialize(accounts)
        self.bot = bot


class BotAnswersHandler(_BotHandler):
    api_doc = {"get": Op("The bot's knowledge base, with each answer's usage (counts by answer id: used, "
                         "handed_over, last_used_at)",
                         response=obj(("answers", "counts"), answers=array(ANY_OBJ), counts=ANY_OBJ), tags=("bot",)),
               "post": Op("Add an answer to the bot's knowledge base", request=ANSWER, response=ANY_OBJ, status=201,
                          errors=(400, 403), tags=("bot",))}

    async def get(self) -> None:
        self.write_json({"answers": await self.bot.list(), "counts": await self.bot.counts()})

    async def post(self) -> None:
        answer = await self.bot.create(self.current_user, self.json_body())
        self.set_header("Location", f"/api/bot/answers/{answer['id']}")
        self.write_json(answer, status=201)


class BotAnswerHandler(_BotHandler):
    api_path_params = ("answer_id",)
    api_doc = {"patch": Op("Change an answer (fields left out keep their value)", request=ANY_OBJ, response=ANY_OBJ,
                           errors=(400, 403, 404), tags=("bot",)),
               "delete": Op("Delete an answer", response=ANY_OBJ, errors=(403, 404), tags=("bot",))}

    async def patch(self, answer_id: str) -> None:
        self.write_json(await self.bot.update(self.current_user, answer_id, self.json_body()))

    async def delete(self, answer_id: str) -> None:
        self.write_json(await self.bot.delete(self.current_user, answer_id))


TRY_MAX_CHARS = 2000  # as long as a customer's text message


class BotTryHandler(_BotHandler):
    api_doc = {"post": Op("What the bot would answer to a question, with the match explanation",
                          request=obj(("question",), question={"type": "string"}, skill={"type": "string"}),
                          response=ANY_OBJ, errors=(400, 403), tags=("bot",))}

    async def post(self) -> None:
        body = self.json_body()
        question, skill = body.get("question"), body.get("skill")
        if not isinstance(question, str) or not question.strip():
            raise ValidationError("question", "is required (non-empty text)")
        if len(question) > TRY_MAX_CHARS:  # segmented on the event loop: a customer's text is bounded too
            raise ValidationError("question", f"at most {TRY_MAX_CHARS} characters")
        if skill is not None and (not isinstance(skill, str) or len(skill) > SKILL_MAX_CHARS):
            raise ValidationError("skill", "must be a skill name")
        self.write_json(self.bot.try_question(question, skill or None))


FORMAT = Query("format", description="csv or xlsx (default: from the Content-Type, else csv)")
IMPORT_RESULT = obj(("dry_run", "rows", "added", "replaced", "answers"), dry_run={"type": "boolean"},
                    rows={"type": "integer"}, added=array({"type": "string"}), replaced=array({"type": "string"}),
                    answers=array(ANY_OBJ))
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _format(handler: APIHandler) -> str:
    fmt = handler.get_query_argument("format", None)
    if fmt is None:
        fmt = "xlsx" if XLSX_TYPE in handler.request.headers.get("Content-Type", "") else "csv"
    if fmt not in bot_import.FORMATS:
        raise ValidationError("format", f"must be one of {', '.join(bot_import.FORMATS)}")
    return fmt


DRY_RUN_VALUES = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False, "": False}


class BotImportHandler(_BotHandler):
    api_doc = {"post": Op("Import answers from a CSV or XLSX file (the body): all rows or none; a broken row is "
                          "refused naming its row and column. A question already asked replaces its answer.",
                          query=(FORMAT, Query("dry_run", "boolean", "1: only check and preview, change nothing")),
                          response=IMPORT_RESULT, errors=(400, 403), tags=("bot",))}

    async def post(self) -> None:
        # A value not understood is refused, not taken for "no": dry_run=True or on meant a
        # preview, and imported for real.
        raw = self.get_query_argument("dry_run", "0").lower()
        if raw not in DRY_RUN_VALUES:
            raise ValidationError("dry_run", "must be 1 (only check and preview) or 0")
        dry_run = DRY_RUN_VALUES[raw]
        result = await bot_import.import_file(self.bot.kb, self.current_user, self.request.body, _format(self),
                                              dry_run)
        self.write_json(result)


class BotTemplateHandler(_BotHandler):
    api_doc = {"get": Op("A knowledge-base file to start from: the column headings and two example rows",
                         query=(FORMAT,), tags=("bot",))}

    async def get(self) -> None:
        fmt = self.get_query_argument("format", "csv")
        if fmt not in bot_import.FORMATS:
            raise ValidationError("format", f"must be one of {', '.join(bot_import.FORMATS)}")
        data = bot_import.template_csv() if fmt == "csv" else bot_import.template_xlsx()
        self.set_header("Content-Type", "text/csv; charset=UTF-8" if fmt == "csv" else XLSX_TYPE)
        self.set_header("Content-Disposition", f'attachment; filename="bot-answers-template.{fmt}"')
        self.finish(data)


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"accounts": services.accounts, "bot": services.desk.bot}
    return [(r"/api/bot/answers", BotAnswersHandler, args), (r"/api/bot/try", BotTryHandler, args),
            (r"/api/bot/import", BotImportHandler, args), (r"/api/bot/import/template", BotTemplateHandler, args),
            (r"/api/bot/answers/([^/]+)", BotAnswerHandler, args)]
