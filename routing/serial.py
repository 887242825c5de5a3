"""Tagged JSON encoding shared by routing events and decisions.

Owns the one rule every persisted routing record follows: a frozen dataclass becomes a plain dict
with a ``kind`` tag, tuples become lists, nested records become dicts; decoding looks the tag up
in a registry and turns lists back into tuples where the field is declared as a tuple. The desk
stores the event log with this encoding, so it must stay stable: renaming a field or a ``kind``
breaks old logs.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, TypeVar

T = TypeVar("T", bound="Tagged")


def to_plain(value: Any) -> Any:
    """Turn records, tuples and dicts into JSON-able plain values (deterministic, order kept)."""
    if isinstance(value, Tagged):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        to_dict = getattr(value, "to_dict", None)
        if to_dict is not None:
            return to_dict()
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


def _tupled(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


class Tagged:
    """Base of every event and decision: ``to_dict()`` with a ``kind`` tag and ``from_dict``.

    Subclasses set ``kind`` and register themselves in their family's registry with
    :func:`register`. Fields declared as ``tuple[...]`` are restored as tuples; a subclass with a
    nested record overrides ``_decode_field``.
    """

    __slots__ = ()
    kind: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[Tagged]]] = {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            out[f.name] = to_plain(getattr(self, f.name))
        return out

    @classmethod
    def _decode_field(cls, name: str, type_text: str, value: Any) -> Any:
        if type_text.startswith("tuple") and isinstance(value, list):
            return _tupled(value)
        return value

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        """Decode a dict made by ``to_dict``; called on a family base it dispatches on ``kind``."""
        target = cls.registry.get(data.get("kind", ""))
        if target is None or not issubclass(target, cls):
            raise ValueError(f"unknown {cls.__name__} kind: {data.get('kind')!r}")
        kwargs = {}
        for f in dataclasses.fields(target):  # type: ignore[arg-type]
            if f.name in data:
                kwargs[f.name] = target._decode_field(f.name, str(f.type), data[f.name])
        return target(**kwargs)  # type: ignore[return-value]


def register(cls: type[T]) -> type[T]:
    """Class decorator: add a record class to its family's ``kind`` registry."""
    if not cls.kind:
        raise TypeError(f"{cls.__name__} needs a kind")
    if cls.kind in cls.registry:
        raise TypeError(f"duplicate kind {cls.kind!r}")
    cls.registry[cls.kind] = cls
    return cls
