"""Password hashes: scrypt (n=2**14, r=8, p=1, a random 16-byte salt per user).

Kept as ``scrypt$n$r$p$salt$hash`` (base64), so the parameters can be raised later without
breaking old hashes: a hash is checked with the parameters it carries. Used by
`desk.accounts.Accounts` (which runs them off the event loop: each is ~50 ms of CPU).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=SCRYPT_MAXMEM, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str | None) -> bool:
    """Constant-time check of ``password`` against an encoded hash; False for any malformed hash."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = (encoded or "").split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p),
                                maxmem=SCRYPT_MAXMEM, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


# Verified against when the username does not exist, so that answer takes as long as a wrong password.
DUMMY_HASH = hash_password(secrets.token_hex(16))
