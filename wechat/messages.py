"""Inbound WeChat messages and events, parsed into one immutable ``InboundMessage``.

``parse_inbound`` is on the webhook's hot path: it parses with the DTD-forbidding expat parser of
``wechat.xmlsafe`` straight into a dict and maps the fields Kefu uses onto a slotted dataclass.
Every field WeChat sent is kept in ``raw`` (message types Kefu does not know are kept too, not
dropped), and ``to_dict`` / ``from_dict`` round-trip the message through JSON for storage.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from wechat.errors import MalformedMessage
from wechat.xmlsafe import parse_xml

# WeChat's own spelling of the events Kefu knows; matched case-insensitively on input.
KNOWN_EVENTS = (
    "subscribe",
    "unsubscribe",
    "SCAN",
    "CLICK",
    "VIEW",
    "LOCATION",
    "kf_create_session",
    "kf_close_session",
)
_EVENT_SPELLING = {name.lower(): name for name in KNOWN_EVENTS}

# Menu keys that choose a skill: EventKey "skill:loans" routes to the "loans" queue.
SKILL_KEY_PREFIX = "skill:"

# XML field -> dataclass attribute, for plain string fields.
_STR_FIELDS = {
    "EventKey": "event_key",
    "Content": "content",
    "MediaId": "media_id",
    "PicUrl": "pic_url",
    "Format": "format",
    "Recognition": "recognition",
    "ThumbMediaId": "thumb_media_id",
    "Label": "label",
    "Title": "title",
    "Description": "description",
    "Url": "url",
    "FileKey": "file_key",
    "FileMd5": "file_md5",
    "Ticket": "ticket",
}
_FLOAT_FIELDS = {
    "Location_X": "location_x",
    "Location_Y": "location_y",
    "Latitude": "latitude",
    "Longitude": "longitude",
    "Precision": "precision",
}
_INT_FIELDS = {"Scale": "scale", "FileTotalLen": "file_total_len"}
# CreateTime is a Unix time in seconds that WeChat sends as a 32-bit unsigned number. Anything
# outside cannot be a real message and would overflow the stores' 64-bit integers (SQLite raises
# OverflowError, BSON cannot encode it) or date arithmetic later.
MAX_CREATE_TIME = 2**32 - 1
# Other integers (Scale, FileTotalLen) must fit the stores' signed 64-bit integers.
MAX_INT64 = 2**63 - 1


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message or event a customer sent to the Official Account."""

    to_user: str
    openid: str
    create_time: int
    msg_type: str
    msg_id: str | None = None
    event: str | None = None
    event_key: str | None = None
    content: str | None = None
    media_id: str | None = None
    pic_url: str | None = None
    format: str | None = None
    recognition: str | None = None
    thumb_media_id: str | None = None
    location_x: float | None = None
    location_y: float | None = None
    scale: int | None = None
    label: str | None = None
    title: str | None = None
    description: str | None = None
    url: str | None = None
    file_key: str | None = None
    file_md5: str | None = None
    file_total_len: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    precision: float | None = None
    ticket: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def dedup_key(self) -> str:
        """What WeChat's retries of this message share: MsgId, or openid|CreateTime|Event, and
        the EventKey when there is one: two different menu items tapped within one second (a
        self-service item, then another) are two events, and a retry repeats its key."""
        if self.msg_id:
            return self.msg_id
        if self.event_key:
            return f"{self.openid}|{self.create_time}|{self.event}|{self.event_key}"
        return f"{self.openid}|{self.create_time}|{self.event}"

    @property
    def skill_from_menu(self) -> str | None:
        """The skill a ``skill:<name>`` menu CLICK asks for, else None."""
        if self.event == "CLICK" and self.event_key and self.event_key.startswith(SKILL_KEY_PREFIX):
            return self.event_key[len(SKILL_KEY_PREFIX) :].strip() or None
        return None

    @property
    def summary(self) -> str:
        """A short line for queues, offers and transcripts."""
        t = self.msg_type
        if t == "text":
            return self.content or ""
        if t == "image":
            return "[image]"
        if t == "voice":
            return f"[voice] {self.recognition}" if self.recognition else "[voice]"
        if t in ("video", "shortvideo"):
            return "[video]"
        if t == "location":
            return (
                f"[location] {self.label}"
                if self.label
                else f"[location] {self.location_x},{self.location_y}"
            )
        if t == "link":
            return f"[link] {self.title or self.url or ''}".rstrip()
        if t == "file":
            return f"[file] {self.title or ''}".rstrip()
        if t == "event":
            if self.event in ("CLICK", "VIEW"):
                return f"[menu] {self.event_key or ''}".rstrip()
            if self.event == "LOCATION":
                return f"[event] LOCATION {self.latitude},{self.longitude}"
            return f"[event] {self.event}"
        return f"[{t}]"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; ``from_dict`` gives the same message back."""
        return {f.name: getattr(self, f.name) for f in _FIELDS}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InboundMessage:
        return cls(**{k: d[k] for k in _FIELD_NAMES if k in d})


_FIELDS = dataclasses.fields(InboundMessage)
_FIELD_NAMES = frozenset(f.name for f in _FIELDS)


def _required(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise MalformedMessage(f"missing {name}")
    return value.strip()


def _to_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _to_int(value: Any) -> int | None:
    """The integer in ``value``, or None when it is not one or does not fit in 64 bits."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -MAX_INT64 - 1 <= number <= MAX_INT64 else None


def normalise_event(event: str) -> str:
    """WeChat's spelling of a known event (``click`` -> ``CLICK``); unknown events unchanged."""
    return _EVENT_SPELLING.get(event.lower(), event)


def parse_inbound(xml: bytes | str) -> InboundMessage:
    """Parse a (decrypted) webhook body. MalformedMessage when it is not a WeChat message."""
    root, f = parse_xml(xml)
    if root != "xml":
        raise MalformedMessage(f"root element is <{root}>, not <xml>")
    to_user = _required(f, "ToUserName")
    openid = _required(f, "FromUserName")
    msg_type = _required(f, "MsgType")
    try:
        create_time = int(_required(f, "CreateTime"))
    except ValueError as exc:
        raise MalformedMessage("CreateTime is not an integer") from exc
    if not 0 <= create_time <= MAX_CREATE_TIME:
        raise MalformedMessage("CreateTime is out of range")

    kw: dict[str, Any] = {}
    msg_id = f.get("MsgId") or f.get("MsgID")
    if msg_type == "event":
        kw["event"] = normalise_event(_required(f, "Event"))
    elif not isinstance(msg_id, str) or not msg_id.strip():
        raise MalformedMessage("missing MsgId")
    if isinstance(msg_id, str) and msg_id.strip():
        kw["msg_id"] = msg_id.strip()

    for xml_name, attr in _STR_FIELDS.items():
        value = f.get(xml_name)
        if isinstance(value, str):
            kw[attr] = value
    for xml_name, attr in _FLOAT_FIELDS.items():
        if xml_name in f:
            kw[attr] = _to_float(f[xml_name])
    for xml_name, attr in _INT_FIELDS.items():
        if xml_name in f:
            kw[attr] = _to_int(f[xml_name])

    return InboundMessage(
        to_user=to_user, openid=openid, create_time=create_time, msg_type=msg_type, raw=f, **kw
    )
