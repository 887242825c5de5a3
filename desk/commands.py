"""Socket commands as features declare them: a name, the roles allowed, and a schema of checked values.

A feature marks a coroutine method with :func:`command`; :class:`CommandRegistry` collects the
marked methods of the features it is given and is the desk's one entry for commands
(:meth:`CommandRegistry.dispatch`): role check, then every field checked for type *and* value
(choices, lengths, printable ids, "exactly one of"), then the call. So each rule lives once, in
the schema, and the methods receive values already checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from desk.errors import BadRequest, DeskError, Forbidden
from store.records import PublicUser


class UnknownCommand(DeskError):
    code = "unknown_type"

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


@dataclass(frozen=True)
class Str:
    """A string field: required unless ``required=False``; optional bounds and choices."""

    required: bool = True
    choices: tuple[str, ...] | None = None
    max_chars: int | None = None
    strip: bool = False  # the value the method gets is stripped (and must not be empty then)
    printable: bool = False
    too_long: str | None = None  # the message when longer than max_chars

    def check(self, name: str, value: Any) -> Any:
        if value is None:
            if self.required:
                raise BadRequest(f"{name} is required")
            return None
        if not isinstance(value, str):
            raise BadRequest(f"{name} must be a string")
        if self.required and not value.strip():
            raise BadRequest(f"{name} must not be empty")
        if self.strip:
            value = value.strip()
        if self.choices is not None and value not in self.choices:
            raise BadRequest(f"{name} must be {' or '.join(chr(34) + c + chr(34) for c in self.choices)}")
        if self.max_chars is not None and len(value) > self.max_chars:
            raise BadRequest(self.too_long or f"{name} is longer than {self.max_chars} characters")
        if self.printable and not (value and value.isprintable()):
            raise BadRequest(f"{name} must be 1-{self.max_chars} printable characters")
        return value


@dataclass(frozen=True)
class CommandSpec:
    name: str
    roles: frozenset[str] | None  # None: any authenticated user
    fields: dict[str, Str]
    one_of: tuple[str, ...] = ()  # exactly one of these fields must be given
    with_connection: bool = False  # the method takes ``conn_key`` (subscriptions, monitors)
    method: str = ""


@dataclass
class _Marked:
    spec: CommandSpec


def command(name: str, *, roles: frozenset[str] | None = None, one_of: tuple[str, ...] = (),
            with_connection: bool = False, **fields: Str) -> Callable[[Callable[..., Awaitable[Any]]],
                                                                      Callable[..., Awaitable[Any]]]:
    """Mark a feature's method as the socket command ``name`` (called as ``method(user, **values)``)."""
    def mark(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        fn.__command__ = CommandSpec(name, roles, dict(fields), one_of, with_connection,  # type: ignore[attr-defined]
                                     fn.__name__)
        return fn
    return mark


def specs_of(cls: type) -> list[CommandSpec]:
    """The commands a feature class declares."""
    return [spec for attr in dir(cls) if (spec := getattr(getattr(cls, attr), "__command__", None)) is not None]


@dataclass
class CommandRegistry:
    """name -> (spec, bound method), for one desk (no module-level table)."""

    commands: dict[str, tuple[CommandSpec, Callable[..., Awaitable[Any]]]] = field(default_factory=dict)

    def register(self, feature: object, bind_to: object | None = None) -> None:
        """Add the commands ``feature``'s class declares, bound to ``bind_to`` (default: the feature)."""
        for spec in specs_of(type(feature) if not isinstance(feature, type) else feature):
            if spec.name in self.commands:
                raise ValueError(f"command {spec.name!r} registered twice")
            self.commands[spec.name] = (spec, getattr(bind_to or feature, spec.method))

    @classmethod
    def of(cls, features: Iterable[object]) -> CommandRegistry:
        registry = cls()
        for feature in features:
            registry.register(feature)
        return registry

    @classmethod
    def bound(cls, classes: Iterable[type], target: object) -> CommandRegistry:
        """The commands the feature classes declare, each bound to ``target``'s method of that
        name (a test double standing in for the whole desk)."""
        registry = cls()
        for feature_cls in classes:
            registry.register(feature_cls, bind_to=target)
        return registry

    def names(self) -> set[str]:
        return set(self.commands)

    @staticmethod
    def check(spec: CommandSpec, user: PublicUser, msg: dict[str, Any]) -> dict[str, Any]:
        """The checked values of ``msg`` for ``spec`` (``Forbidden``/``BadRequest`` otherwise)."""
        if spec.roles is not None and not spec.roles & set(user.get("roles") or ()):
            raise Forbidden(f"{spec.name} needs the role {' or '.join(sorted(spec.roles))}")
        values = {name: f.check(name, msg.get(name)) for name, f in spec.fields.items()}
        if spec.one_of and sum(1 for name in spec.one_of if values.get(name)) != 1:
            raise BadRequest(f"{' or '.join(spec.one_of)} is required (one of them)")
        return values

    async def dispatch(self, user: PublicUser, name: str, msg: dict[str, Any], conn_key: str) -> Any:
        entry = self.commands.get(name)
        if entry is None:
            raise UnknownCommand(f"unknown type {name[:40]!r}")
        spec, method = entry
        values = self.check(spec, user, msg)
        if spec.with_connection:
            values["conn_key"] = conn_key
        return await method(user, **values)
