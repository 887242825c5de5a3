"""Configuration: flags and KEFU_* variables, precedence, and one-line errors for bad settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kefu_config import ConfigError, parse_config

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_match_the_contract() -> None:
    config = parse_config(["--demo"], environ={})
    assert (config.port, config.address, config.store) == (8000, "127.0.0.1", "sqlite:///data/kefu.sqlite3")
    assert config.redis is None
    assert config.wechat_max_skew == 300
    assert config.wechat_api == "https://api.weixin.qq.com"
    assert config.default_skill == "general"
    assert config.token_lifetime == 12 * 3600


def test_flag_wins_over_environment() -> None:
    env = {"KEFU_PORT": "9001", "KEFU_JWT_SECRET": "s", "KEFU_DEFAULT_SKILL": "loans"}
    config = parse_config(["--port", "9002"], environ=env)
    assert config.port == 9002
    assert config.default_skill == "loans"
    assert config.jwt_secret == "s"


def test_demo_from_environment() -> None:
    assert parse_config([], environ={"KEFU_DEMO": "true"}).demo is True
    assert parse_config([], environ={"KEFU_DEMO": "0", "KEFU_JWT_SECRET": "x"}).demo is False


def test_allowed_origins_are_split_and_normalised() -> None:
    config = parse_config(["--demo", "--allowed-origins", "https://a.example/, https://b.example"], environ={})
    assert config.allowed_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "no JWT secret"),
        (["--demo", "--wechat-aes-key", "short"], "43 characters"),
        (["--demo", "--store", "postgres://x"], "unknown store scheme"),
        (["--demo", "--port", "eighty"], "whole number"),
        (["--demo", "--bootstrap-admin", "root"], "user:password"),
        (["--demo", "--redis", "http://x"], "redis://"),
        (["--demo", "--log-format", "xml"], "json or text"),
    ],
)
def test_bad_configuration_is_one_clear_error(argv: list[str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_config(argv, environ={})


def test_server_exits_non_zero_with_one_line() -> None:
    proc = subprocess.run([sys.executable, "server.py", "--store", "sqlite:///x.db"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("kefu: no JWT secret")


AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def test_wechat_mode_defaults_to_compatible_with_an_aes_key_else_plain() -> None:
    assert parse_config(["--demo"], environ={}).webhook_mode == "plain"
    assert parse_config(["--demo", "--wechat-aes-key", AES_KEY], environ={}).webhook_mode == "compatible"
    config = parse_config(["--demo"], environ={"KEFU_WECHAT_MODE": "Safe", "KEFU_WECHAT_AES_KEY": AES_KEY})
    assert config.webhook_mode == "safe"
    # The flag wins over the environment.
    config = parse_config(["--demo", "--wechat-mode", "plain"], environ={"KEFU_WECHAT_MODE": "safe",
                                                                         "KEFU_WECHAT_AES_KEY": AES_KEY})
    assert config.webhook_mode == "plain"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--demo", "--wechat-mode", "safe"], "--wechat-mode safe needs the EncodingAESKey"),
        (["--demo", "--wechat-mode", "compatible"], "--wechat-mode compatible needs the EncodingAESKey"),
        (["--demo", "--wechat-mode", "encrypted"], "plain, compatible or safe"),
    ],
)
def test_an_impossible_wechat_mode_refuses_to_start(argv: list[str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_config(argv, environ={})


def test_safe_mode_without_a_key_ends_the_server_with_one_line() -> None:
    proc = subprocess.run([sys.executable, "server.py", "--demo", "--wechat-mode", "safe"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "kefu: --wechat-mode safe needs the EncodingAESKey: set --wechat-aes-key (or KEFU_WECHAT_AES_KEY), "
        "or use --wechat-mode plain"]


def test_allow_no_origin_is_a_switch_and_an_environment_variable() -> None:
    assert parse_config(["--demo"], environ={}).allow_no_origin is False
    assert parse_config(["--demo", "--allow-no-origin"], environ={}).allow_no_origin is True
    assert parse_config(["--demo"], environ={"KEFU_ALLOW_NO_ORIGIN": "yes"}).allow_no_origin is True
    assert parse_config(["--demo"], environ={"KEFU_ALLOW_NO_ORIGIN": "0"}).allow_no_origin is False
    with pytest.raises(ConfigError, match="--allow-no-origin must be on or off"):
        parse_config(["--demo"], environ={"KEFU_ALLOW_NO_ORIGIN": "maybe"})
