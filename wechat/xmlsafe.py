"""Safe, fast parsing of the small XML documents WeChat exchanges.

WeChat's XML is flat (``<xml><Field>value</Field>...</xml>``, a few events nest one level). We
parse it with the standard library's expat (C) into plain dicts, refusing what WeChat never
sends and attackers do: any DOCTYPE (so no entity declarations, no billion laughs, no external
entities). That is defusedxml's ``forbid_dtd=True`` policy, applied on a bare expat parser
because this sits on the webhook's hot path: it is several times faster than building an
ElementTree through defusedxml's pure-Python parser, and needs no tree at all.
"""

from __future__ import annotations

from typing import Any
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from wechat.errors import MalformedMessage

# Bodies above this are not WeChat messages (the biggest real ones are well under 4 KiB).
MAX_XML_BYTES = 64 * 1024
# Elements nested deeper than this are not WeChat messages either: the deepest real one is the
# photo event's <xml><SendPicsInfo><PicList><item><PicMd5Sum>, 5 levels. A deep tree would
# otherwise reach code that walks it recursively (JSON encoding of the stored message) and fail
# there as a 500.
MAX_XML_DEPTH = 12


class _TooDeep(Exception):
    pass


def _forbid_dtd(name: str, sysid: str | None, pubid: str | None, has_internal_subset: bool) -> None:
    raise DTDForbidden(name, sysid, pubid)


def _forbid_entity(name: str, *args: Any) -> None:
    raise EntitiesForbidden(name, None, None, None, None, None)


def _forbid_external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> int:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def parse_xml(data: bytes | str) -> tuple[str, dict[str, Any]]:
    """Parse ``data`` into ``(root tag, {child tag: text or nested dict or list})``.

    Raises MalformedMessage for anything that is not well-formed, DTD-free XML.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data:
        raise MalformedMessage("empty body")
    if len(data) > MAX_XML_BYTES:
        raise MalformedMessage(f"body larger than {MAX_XML_BYTES} bytes")

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_entity
    parser.ExternalEntityRefHandler = _forbid_external

    # Each frame: [tag, children dict, text parts].
    stack: list[list[Any]] = []
    result: list[Any] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if len(stack) >= MAX_XML_DEPTH:
            raise _TooDeep()
        stack.append([tag, {}, []])

    def end(tag: str) -> None:
        _, children, text = stack.pop()
        value: Any = children if children else "".join(text)
        if stack:
            siblings = stack[-1][1]
            if tag in siblings:
                old = siblings[tag]
                if isinstance(old, list):
                    old.append(value)
                else:
                    siblings[tag] = [old, value]
            else:
                siblings[tag] = value
        else:
            result.append((tag, children))

    def chars(text: str) -> None:
        if stack:
            stack[-1][2].append(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except _TooDeep:
        raise MalformedMessage(f"elements nested deeper than {MAX_XML_DEPTH} levels") from None
    except DTDForbidden as exc:
        raise MalformedMessage("DOCTYPE is not allowed") from exc
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise MalformedMessage("entity declarations are not allowed") from exc
    except expat.ExpatError as exc:
        raise MalformedMessage(f"not well-formed XML: {expat.ErrorString(exc.code)}") from exc
    if not result:
        raise MalformedMessage("no root element")
    return result[0]
