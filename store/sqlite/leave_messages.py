"""Leave-messages (留言) on SQLite: the sessions whose ``leave_message`` is set, read by the
expression index of migration 8 (``sessions_leave_message``), oldest leave-message first."""

from __future__ import annotations

from collections.abc import Collection

from ..records import SessionRecord, SessionState
from .codec import loads
from .reader import Reader

# The indexed expression (schema.py, migration 8): a query must spell it the same way to use it.
CREATED = "json_extract(doc, '$.leave_message.created_at')"


class LeaveMessages:
    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    async def list(self, states: Collection[SessionState] | None, skill: str | None,
                   limit: int, newest_first: bool = False) -> list[SessionRecord]:
        where, args = [f"{CREATED} IS NOT NULL"], []  # type: tuple[list[str], list[object]]
        if states is not None:
            wanted = list(dict.fromkeys(states))
            if not wanted:
                return []
            where.append(f"state IN ({', '.join('?' * len(wanted))})")
            args.extend(wanted)
        if skill is not None:
            where.append("skill = ?")
            args.append(skill)
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT doc FROM sessions WHERE {' AND '.join(where)} ORDER BY {CREATED} {order}, id {order} LIMIT ?"
        args.append(max(0, int(limit)))
        rows = await self._reader.read(lambda c: c.execute(sql, args).fetchall())
        return [loads(r[0]) for r in rows]
