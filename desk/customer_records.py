"""What agents write about a customer: tags (VIP, 投诉…) and a note, edited from the console.

``PATCH /api/customers/{openid}`` ``{"tags": [...], "note": "..."}`` (either or both). Who may:
`desk.access.AccessPolicy.check_customer_edit` (an agent a customer they hold or served;
supervisors in their scope; admins every customer). Each field is checked before anything is
written (400 ``bad_field`` naming it); a kept change is written to the audit log (action
``customer_updated``, ``details`` ``{before, after}``) and pushed as ``customer_updated`` to every
console showing the customer. ``customer.tags`` is the field priority rules read (``vip``…).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from desk.access import AccessPolicy
from desk.errors import NotFoundError, ValidationError
from store.base import Store
from store.records import CustomerRecord, PublicUser

MAX_TAGS = 10
TAG_MAX_CHARS = 20
NOTE_MAX_CHARS = 1000
EDITABLE = ("tags", "note")


def validate_profile(body: Any) -> dict[str, Any]:
    """The fields to write, checked: ``tags`` de-duplicated (case-insensitive, first spelling kept),
    ``note`` stripped (empty: no note)."""
    if not isinstance(body, dict) or not body:
        raise ValidationError("tags", 'the body is {"tags": [...], "note": "..."} (either or both)')
    for key in body:
        if key not in EDITABLE:
            raise ValidationError(str(key)[:40], "cannot be changed here; only tags and note")
    changes: dict[str, Any] = {}
    if "tags" in body:
        tags = body["tags"]
        if not isinstance(tags, list):
            raise ValidationError("tags", "must be a list of texts")
        kept: list[str] = []
        for i, tag in enumerate(tags):
            if not isinstance(tag, str) or not tag.strip():
                raise ValidationError(f"tags[{i}]", "must be a non-empty text")
            tag = tag.strip()
            if len(tag) > TAG_MAX_CHARS or not tag.isprintable():
                raise ValidationError(f"tags[{i}]", f"must be 1-{TAG_MAX_CHARS} printable characters")
            if tag.casefold() not in {t.casefold() for t in kept}:
                kept.append(tag)
        if len(kept) > MAX_TAGS:
            raise ValidationError("tags", f"at most {MAX_TAGS} tags")
        changes["tags"] = kept
    if "note" in body:
        note = body["note"]
        if note is not None and not isinstance(note, str):
            raise ValidationError("note", "must be a text")
        note = (note or "").strip()
        if len(note) > NOTE_MAX_CHARS:
            raise ValidationError("note", f"is longer than {NOTE_MAX_CHARS} characters")
        changes["note"] = note or None
    return changes


class CustomerRecords:
    def __init__(self, store: Store, access: AccessPolicy, customer_changed: Callable[[CustomerRecord], Awaitable[None]],
                 clock: Callable[[], float]) -> None:
        self.store = store
        self.access = access
        self.customer_changed = customer_changed  # pushes ``customer_updated`` to the consoles showing them
        self.clock = clock

    async def update(self, user: PublicUser, openid: str, body: Any) -> CustomerRecord:
        """Change a customer's tags and note; returns the customer record."""
        await self.access.check_customer_edit(user, openid)
        changes = validate_profile(body)
        customer = await self.store.get_customer(openid)
        if customer is None:
            raise NotFoundError("no such customer")
        before = {k: customer.get(k) for k in changes}
        if before == changes:
            return customer
        customer = await self.store.update_customer(openid, **changes)
        await self.store.add_audit({"ts": self.clock(), "actor_id": user.get("id"), "action": "customer_updated",
                                    "target": openid, "details": {"before": before, "after": changes}})
        await self.customer_changed(customer)
        return customer
