"""Reports (运营报表) over HTTP: ``GET /api/reports`` (the contract's report) and ``GET
/api/reports/agents`` (state times and occupancy, an extension), as JSON, CSV or XLSX.

Thin: `desk.reports.Reports` checks the question (400 ``bad_field`` naming the field), who asks
(supervisor, admin; a team's supervisor sees their team) and computes; this module picks the
format and names the download.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desk import report_export
from desk.reports import AGENT_FIELDS, ROW_FIELDS, parse_format
from handlers.base import STAFF, APIHandler
from handlers.openapi import ANY_OBJ, Op, Query, array, obj

if TYPE_CHECKING:
    from desk.accounts import Accounts
    from desk.reports import Reports
    from server import Services

_RANGE = (Query("from", description="ISO 8601 date (midnight in tz) or date-time with an offset", required=True),
          Query("to", description="exclusive; at most 366 days after from", required=True),
          Query("tz", description="time zone of dates, days and hours (default Asia/Shanghai)"),
          Query("format", description="json (default), csv or xlsx"))


class _ReportHandler(APIHandler):
    access = STAFF  # agents and QA get 403

    def initialize(self, accounts: Accounts, reports: Reports) -> None:
        super().initialize(accounts)
        self.reports = reports

    def arg(self, name: str) -> str | None:
        return self.get_query_argument(name, None)

    def answer(self, fmt: str, rows: list[dict[str, Any]], fields: tuple[str, ...], name: str) -> None:
        if fmt == "json":
            self.write_json({"rows": rows})
            return
        stem = "".join(c for c in f"{name}_{self.arg('from')}_{self.arg('to')}" if c.isalnum() or c in "-_")
        if fmt == "csv":
            body, kind = report_export.to_csv(rows, fields), report_export.CSV_TYPE
        else:
            body, kind = report_export.to_xlsx(rows, fields, name), report_export.XLSX_TYPE
        self.set_header("Content-Type", kind)
        self.set_header("Content-Disposition", f'attachment; filename="{stem[:100]}.{fmt}"')
        self.finish(body)


class ReportHandler(_ReportHandler):
    api_doc = {"get": Op("The operations report by skill, agent, team, day or hour (docs/protocol.md)",
                         query=(*_RANGE, Query("by", description="skill, agent, team, day or hour", required=True)),
                         response=obj(("rows",), rows=array(ANY_OBJ)), errors=(400, 403), tags=("reports",))}

    async def get(self) -> None:
        fmt = parse_format(self.arg("format"))  # refused before any work
        rows = await self.reports.report(self.current_user, self.arg("from"), self.arg("to"), self.arg("by"),
                                         self.arg("tz"))
        # CSV: exactly the contract's columns; XLSX adds the label (a name) for people.
        fields = ROW_FIELDS if fmt != "xlsx" else (*ROW_FIELDS, "label")
        self.answer(fmt, rows, fields, f"report-{self.arg('by')}")


class AgentReportHandler(_ReportHandler):
    api_doc = {"get": Op("Each agent's time available, busy, away, in wrap-up and offline, and occupancy",
                         query=_RANGE, response=obj(("rows",), rows=array(ANY_OBJ)), errors=(400, 403),
                         tags=("reports",))}

    async def get(self) -> None:
        fmt = parse_format(self.arg("format"))
        rows = await self.reports.agent_states(self.current_user, self.arg("from"), self.arg("to"), self.arg("tz"))
        self.answer(fmt, rows, AGENT_FIELDS, "agents")


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"accounts": services.accounts, "reports": services.desk.reports}
    return [
        (r"/api/reports", ReportHandler, args),
        (r"/api/reports/agents", AgentReportHandler, args),
    ]
