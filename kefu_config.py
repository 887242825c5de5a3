"""Kefu's configuration: every setting as a command-line flag and a ``KEFU_*`` variable.

Owns parsing and validation only. The flag wins over the environment, which wins over the
default. A bad setting raises :class:`ConfigError` with one line a person can act on.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

AES_KEY_LENGTH = 43
# module:Class of a bank adapter (bank/loader.py imports it at start-up).
BANK_ADAPTER_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
# A bank call that takes longer than this is no use to a customer waiting in a chat.
MAX_BANK_TIMEOUT_SECS = 30.0
WECHAT_MODES = ("plain", "compatible", "safe")


class ConfigError(ValueError):
    """A setting that makes no sense; its message is the one line shown to the operator."""


@dataclass(frozen=True)
class Config:
    port: int = 8000
    address: str = "127.0.0.1"
    store: str = "sqlite:///data/kefu.sqlite3"
    redis: str | None = None
    wechat_token: str = ""
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_aes_key: str = ""
    wechat_max_skew: int = 300
    wechat_mode: str = ""  # "" until parse_config resolves the default (see webhook_mode)
    wechat_api: str = "https://api.weixin.qq.com"
    jwt_secret: str = ""
    default_skill: str = "general"
    demo: bool = False
    bootstrap_admin: str = ""
    token_lifetime: int = 12 * 3600
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    allow_no_origin: bool = False
    idle_timeout: int = 1800
    disconnect_grace: int = 60
    offer_timeout: int = 20
    log_level: str = "info"
    log_format: str = "json"
    # Self-service (bank/, desk/self_service.py): "" means demo with --demo, none otherwise.
    bank_adapter: str = ""
    bank_timeout: float = 2.5

    @property
    def webhook_mode(self) -> str:
        """The effective ``--wechat-mode``: as set, else ``compatible`` with an AES key, else ``plain``."""
        if self.wechat_mode:
            return self.wechat_mode
        return "compatible" if self.wechat_aes_key else "plain"

    @property
    def bootstrap_credentials(self) -> tuple[str, str] | None:
        if not self.bootstrap_admin:
            return None
        user, _, password = self.bootstrap_admin.partition(":")
        return user, password


# (flag name, type, help). The env variable is KEFU_ + the flag upper-cased with _ for -.
_SETTINGS: list[tuple[str, type, str]] = [
    ("port", int, "HTTP port"),
    ("address", str, "listen address"),
    ("store", str, "sqlite:///PATH or mongodb://… URL"),
    ("redis", str, "redis://… URL; absent means one process with an in-process bus"),
    ("wechat-token", str, "the Token configured in the Official Account"),
    ("wechat-appid", str, "the Official Account's AppID"),
    ("wechat-secret", str, "AppSecret, for access tokens"),
    ("wechat-aes-key", str, "EncodingAESKey (43 characters); set means safe mode is accepted"),
    ("wechat-max-skew", int, "reject webhooks whose timestamp is further than this from now (s); 0 = off"),
    ("wechat-mode", str, "plain, compatible (plain and encrypted) or safe (encrypted only); "
                         "default compatible with an AES key, else plain"),
    ("wechat-api", str, "WeChat API base URL"),
    ("jwt-secret", str, "token signing key; required unless --demo"),
    ("default-skill", str, "skill of a session nothing else chose a skill for"),
    ("bootstrap-admin", str, "user:password, an admin created at start-up if no user exists"),
    ("token-lifetime", int, "login token lifetime in seconds"),
    ("allowed-origins", str, "comma-separated extra origins allowed to open /ws"),
    ("allow-no-origin", bool, "accept /ws upgrades without an Origin header (non-browser clients)"),
    ("idle-timeout", int, "seconds of customer silence before an assigned session is closed"),
    ("disconnect-grace", int, "seconds an absent agent keeps their sessions"),
    ("offer-timeout", int, "seconds an agent has to accept an offer"),
    ("log-level", str, "debug, info, warning or error"),
    ("log-format", str, "json or text"),
    ("bank-adapter", str, "self-service bank adapter: demo, none or module:Class "
                          "(default demo with --demo, else none; docs/bank-adapter.md)"),
    ("bank-timeout", float, "seconds a bank call may take before the customer is told to try later"),
]

_TRUE = {"1", "true", "yes", "on"}


def env_name(flag: str) -> str:
    return "KEFU_" + flag.upper().replace("-", "_")


def parse_config(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Build a validated :class:`Config` from flags and environment."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog="server.py", description="Kefu agent console server")
    for flag, typ, help_text in _SETTINGS:
        if typ is bool:  # a switch: --allow-no-origin, or KEFU_ALLOW_NO_ORIGIN=1
            parser.add_argument(f"--{flag}", action="store_const", const="1", default=None,
                                help=f"{help_text} (env {env_name(flag)}=1)")
        else:
            parser.add_argument(f"--{flag}", type=str, default=None, help=f"{help_text} (env {env_name(flag)})")
    parser.add_argument("--demo", action="store_true", default=None,
                        help="seed demo users and skills and mount the WeChat simulator (env KEFU_DEMO)")
    args = parser.parse_args(argv)

    defaults = Config()
    values: dict[str, object] = {}
    for flag, typ, _help in _SETTINGS:
        attr = flag.replace("-", "_")
        raw = getattr(args, attr)
        if raw is None:
            raw = environ.get(env_name(flag))
        if raw is None or raw == "" and typ in (int, float):
            continue
        if typ is bool:
            values[attr] = _parse_bool(flag, raw)
        elif typ is int:
            try:
                values[attr] = int(raw)
            except ValueError:
                raise ConfigError(f"--{flag} must be a whole number, not {raw!r}") from None
        elif typ is float:
            try:
                values[attr] = float(raw)
            except ValueError:
                raise ConfigError(f"--{flag} must be a number, not {raw!r}") from None
        else:
            values[attr] = raw
    demo = args.demo if args.demo is not None else environ.get("KEFU_DEMO", "").lower() in _TRUE
    values["demo"] = bool(demo)
    if isinstance(values.get("allowed_origins"), str):
        values["allowed_origins"] = tuple(
            o.strip().rstrip("/") for o in str(values["allowed_origins"]).split(",") if o.strip()
        )
    if isinstance(values.get("wechat_mode"), str):
        values["wechat_mode"] = str(values["wechat_mode"]).strip().lower()
    if values.get("redis") == "":
        values["redis"] = None
    config = Config(**{**defaults.__dict__, **values})
    validate(config)
    return config


_FALSE = {"0", "false", "no", "off", ""}


def _parse_bool(flag: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"--{flag} must be on or off (1/0, true/false, yes/no), not {raw!r}")


def validate(config: Config) -> None:
    if not config.jwt_secret and not config.demo:
        raise ConfigError("no JWT secret: set --jwt-secret or KEFU_JWT_SECRET (only --demo may run without one)")
    if config.wechat_aes_key and len(config.wechat_aes_key) != AES_KEY_LENGTH:
        raise ConfigError(
            f"--wechat-aes-key must be {AES_KEY_LENGTH} characters (the EncodingAESKey), "
            f"got {len(config.wechat_aes_key)}"
        )
    if config.wechat_mode and config.wechat_mode not in WECHAT_MODES:
        raise ConfigError(f"--wechat-mode must be plain, compatible or safe, not {config.wechat_mode!r}")
    if config.webhook_mode in ("compatible", "safe") and not config.wechat_aes_key:
        raise ConfigError(f"--wechat-mode {config.webhook_mode} needs the EncodingAESKey: set --wechat-aes-key "
                          "(or KEFU_WECHAT_AES_KEY), or use --wechat-mode plain")
    scheme = config.store.split(":", 1)[0].lower() if ":" in config.store else ""
    if scheme not in ("sqlite", "mongodb", "mongodb+srv"):
        raise ConfigError(f"unknown store scheme in --store {config.store!r}: use sqlite:///PATH or mongodb://…")
    if config.redis and not config.redis.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"--redis must be a redis:// URL, not {config.redis!r}")
    if config.bootstrap_admin:
        user, sep, password = config.bootstrap_admin.partition(":")
        if not sep or not user or len(password) < 8:
            raise ConfigError("--bootstrap-admin must be user:password with a password of 8 characters or more")
    if not 0 < config.port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, not {config.port}")
    if config.wechat_max_skew < 0:
        raise ConfigError("--wechat-max-skew must be 0 (off) or a number of seconds")
    if config.log_level not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"--log-level must be debug, info, warning or error, not {config.log_level!r}")
    if config.log_format not in ("json", "text"):
        raise ConfigError(f"--log-format must be json or text, not {config.log_format!r}")
    if config.bank_adapter not in ("", "demo", "none") and not BANK_ADAPTER_SPEC.match(config.bank_adapter):
        raise ConfigError(f"--bank-adapter must be demo, none or module:Class, not {config.bank_adapter!r}")
    if not 0 < config.bank_timeout <= MAX_BANK_TIMEOUT_SECS:
        raise ConfigError(f"--bank-timeout must be more than 0 and at most {MAX_BANK_TIMEOUT_SECS:g} seconds")
    for name in ("token_lifetime", "idle_timeout", "disconnect_grace", "offer_timeout"):
        if getattr(config, name) <= 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be a positive number of seconds")
