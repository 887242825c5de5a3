"""Transcript records: how customer messages, agent replies and system lines become stored messages.

Owns the mapping from a parsed WeChat message to a stored message (type, text, media fields)
and the public shapes of sessions and messages sent to consoles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from store.records import NewMessage
from wechat.messages import InboundMessage

# Fields of an inbound message kept as the stored message's ``media``.
_MEDIA_FIELDS = (
    "media_id", "pic_url", "format", "recognition", "thumb_media_id", "location_x", "location_y",
    "scale", "label", "title", "description", "url", "event", "event_key", "file_key", "file_md5",
    "file_total_len", "latitude", "longitude", "precision",
)


def inbound_message_id(dedup_key: str) -> str:
    """A stable message id derived from WeChat's de-duplication key, so reprocessing is idempotent."""
    return "in" + hashlib.sha1(dedup_key.encode("utf-8")).hexdigest()[:30]


def inbound_to_message(key: str, message: InboundMessage, session_id: str, ts: float) -> NewMessage:
    media = {name: getattr(message, name, None) for name in _MEDIA_FIELDS}
    media = {k: v for k, v in media.items() if v not in (None, "")}
    msg_type = "event" if message.is_event else message.msg_type
    text = message.content if msg_type == "text" else message.summary
    return {
        "id": inbound_message_id(key),
        "session_id": session_id,
        "openid": message.openid,
        "direction": "in",
        "author": "customer",
        "author_id": message.openid,
        "type": msg_type,
        "text": text,
        "media": media or None,
        "ts": ts,
        "status": "received",
        "wechat_time": message.create_time,
    }


def public_message(message: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": message["id"],
        "session_id": message["session_id"],
        "seq": message.get("seq"),
        "direction": message["direction"],
        "author": message["author"],
        "author_id": message.get("author_id"),
        "author_name": message.get("author_name"),
        "type": message["type"],
        "text": message.get("text"),
        "media": message.get("media"),
        "ts": message["ts"],
        "status": message["status"],
        "error": message.get("error"),
        "client_id": message.get("client_id"),
    }
