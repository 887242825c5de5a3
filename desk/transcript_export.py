"""One transcript as a file for a complaint file (投诉材料): text, CSV or Excel.

``GET /api/sessions/{id}/export?format=txt|csv|xlsx[&tz=Asia/Shanghai]``. Whoever may read the
transcript (`desk.access.AccessPolicy.check_session`) may export it; anyone else gets 403 (and
the refusal is audited as every refused read is). Every export is audited (``session.export``,
with the format). The file holds the session's facts (customer, skill, agents, times, wrap-up,
CSAT) and every message the customer saw or wrote, in order; internal lines (whispers between
supervisor and agent) stay out — the file is meant to leave the desk. Times are written in the
``tz`` time zone (IANA name, default UTC) with their offset.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from desk.access import AccessPolicy
from desk.errors import ValidationError
from store.base import Store
from store.records import MessageRecord, PublicUser, SessionRecord

FORMATS = {"txt": "text/plain; charset=utf-8", "csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
COLUMNS = ("seq", "time", "author", "name", "type", "text")
# Excel opens a UTF-8 CSV as Chinese only when it starts with a byte-order mark.
UTF8_BOM = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet: a customer's "=HYPERLINK(…)"
# must stay text in the complaint file.
FORMULA_STARTS = ("=", "+", "-", "@")


def safe_cell(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


class TranscriptExport:
    def __init__(self, store: Store, access: AccessPolicy, clock: Callable[[], float]) -> None:
        self.store = store
        self.access = access
        self.clock = clock

    async def export(self, user: PublicUser, session_id: str, fmt: str | None,
                     tz: str | None) -> tuple[str, str, bytes]:
        """``(file name, content type, body)`` of the transcript in ``fmt``."""
        fmt = fmt or "txt"
        if fmt not in FORMATS:
            raise ValidationError("format", f"must be one of {', '.join(FORMATS)}")
        try:
            zone = ZoneInfo(tz) if tz else datetime.UTC
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError("tz", "must be a time zone name such as Asia/Shanghai") from None
        session = await self.access.check_session(user, session_id, "export")
        messages = [m for m in await self.store.session_messages(session["id"]) if m["direction"] != "internal"]
        facts, rows = await self._content(session, messages, zone)
        await self.store.add_audit({"ts": self.clock(), "actor_id": user.get("id"), "action": "session.export",
                                    "session_id": session["id"], "details": {"format": fmt,
                                                                             "messages": len(rows)}})
        name = f"transcript-{session['id']}.{fmt}"
        if fmt == "txt":
            body = self._txt(facts, rows).encode("utf-8")
        elif fmt == "csv":
            body = self._csv(rows).encode("utf-8")
        else:
            body = self._xlsx(facts, rows)
        return name, FORMATS[fmt], body

    async def _content(self, session: SessionRecord, messages: list[MessageRecord],
                       zone: datetime.tzinfo) -> tuple[list[tuple[str, str]], list[list[Any]]]:
        def when(ts: float | None) -> str:
            if ts is None:
                return ""
            return datetime.datetime.fromtimestamp(ts, tz=zone).isoformat(timespec="seconds")

        names: dict[str, str] = {}
        for uid in {*(session.get("agents") or ()), session.get("agent_id"),
                    *(m.get("author_id") for m in messages if m["author"] != "customer")}:
            if uid and uid not in names:
                u = await self.store.get_user(uid)
                if u is not None:
                    names[uid] = u.get("name") or u["username"]
        customer = await self.store.get_customer(session["openid"])
        nickname = (customer.get("nickname") if customer else None) or ""
        csat = session.get("csat")  # type: ignore[misc]
        facts = [("session", session["id"]), ("customer", f"{nickname} ({session['openid']})".strip()),
                 ("skill", session.get("skill") or ""),
                 ("agents", ", ".join(names.get(a, a) for a in session.get("agents") or ())),
                 ("created", when(session["created_at"])), ("accepted", when(session.get("accepted_at"))),
                 ("closed", when(session.get("closed_at"))), ("wrapup", session.get("wrapup") or ""),
                 ("csat", str(csat.get("score")) if isinstance(csat, dict) else "")]
        rows = []
        for m in messages:
            author_id = m.get("author_id") or ""
            name = nickname or author_id if m["author"] == "customer" else names.get(author_id, author_id)
            text = m.get("text") or ""
            if m["type"] != "text" and not text:
                text = f"[{m['type']}]"
            rows.append([m.get("seq"), when(m["ts"]), m["author"], name, m["type"], text])
        return facts, rows

    @staticmethod
    def _txt(facts: list[tuple[str, str]], rows: list[list[Any]]) -> str:
        out = [f"{k}: {v}" for k, v in facts]
        out.append("")
        out.extend(f"[{time}] {author} {name}: {text}" for _seq, time, author, name, _type, text in rows)
        return "\n".join(out) + "\n"

    @staticmethod
    def _csv(rows: list[list[Any]]) -> str:
        buf = io.StringIO()
        buf.write(UTF8_BOM)
        writer = csv.writer(buf)
        writer.writerow(COLUMNS)
        writer.writerows([safe_cell(c) for c in row] for row in rows)
        return buf.getvalue()

    @staticmethod
    def _xlsx(facts: list[tuple[str, str]], rows: list[list[Any]]) -> bytes:
        from openpyxl import Workbook  # only an xlsx export pays for the import

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "transcript"
        for k, v in facts:
            sheet.append([k, v])
        sheet.append([])
        sheet.append(list(COLUMNS))
        for row in rows:
            sheet.append([safe_cell(c) for c in row])
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()
