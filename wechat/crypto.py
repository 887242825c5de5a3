"""Signatures and safe-mode (AES) encryption of WeChat webhook traffic.

Plain mode: ``signature`` = sha1 of the sorted ``[token, timestamp, nonce]``.
Safe mode: the body is an envelope whose ``Encrypt`` field is AES-256-CBC of
``random(16) + len(4, big-endian) + xml + appid`` with PKCS#7 padding to 32-byte blocks;
``msg_signature`` = sha1 of the sorted ``[token, timestamp, nonce, Encrypt]``.

Written on ``cryptography`` directly rather than through wechatpy's ``PrpCrypto``: wechatpy
compares signatures with ``!=`` (not constant time), does not check the PKCS#7 padding or the
length field (a forged body raises IndexError/UnicodeError deep inside), and parses the envelope
with an expat that accepts DTDs. This module is on the webhook's hot path, so the AES key
schedule is built once per ``MessageCipher`` and only a cheap decryptor is made per message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wechat.errors import InvalidAppId, InvalidSignature, MalformedMessage
from wechat.replies import cdata
from wechat.xmlsafe import parse_xml

# WeChat pads to 32-byte blocks (not AES's 16), so PKCS#7 pad values run 1..32.
_BLOCK_BYTES = 32
_RANDOM_BYTES = 16
_LEN = struct.Struct(">I")


def _sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def _same(expected: str, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))


def check_signature(token: str, signature: str | None, timestamp: str | None, nonce: str | None) -> bool:
    """True when ``signature`` is WeChat's plain-mode signature of this request."""
    if signature is None or timestamp is None or nonce is None:
        return False
    return _same(_sha1_sorted(token, timestamp, nonce), signature)


def msg_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """Safe-mode ``msg_signature`` over the sorted ``[token, timestamp, nonce, encrypt]``."""
    return _sha1_sorted(token, str(timestamp), str(nonce), encrypt)


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key behind a 43-character EncodingAESKey; ValueError when it is not one."""
    if not isinstance(encoding_aes_key, str) or len(encoding_aes_key) != 43:
        raise ValueError(
            "EncodingAESKey must be exactly 43 characters (letters and digits), as shown in the "
            f"Official Account settings; got {len(encoding_aes_key or '')} characters"
        )
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("EncodingAESKey is not valid base64 (letters and digits only)") from exc
    if len(key) != 32:  # pragma: no cover - 43 base64 chars always give 32 bytes
        raise ValueError("EncodingAESKey does not decode to a 32-byte AES key")
    return key


class MessageCipher:
    """Encrypts and decrypts safe-mode messages for one Official Account."""

    def __init__(self, token: str, encoding_aes_key: str, appid: str) -> None:
        self.token = token
        self.appid = appid
        self._appid_bytes = appid.encode("utf-8")
        self.key = decode_aes_key(encoding_aes_key)
        self._cipher = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    # -- payload -----------------------------------------------------------------------------
    def encrypt(self, plaintext: str, random16: bytes | None = None) -> str:
        """Base64 ``Encrypt`` value for ``plaintext``; ``random16`` fixed only in tests."""
        if random16 is None:
            random16 = os.urandom(_RANDOM_BYTES)
        if len(random16) != _RANDOM_BYTES:
            raise ValueError("random16 must be 16 bytes")
        body = plaintext.encode("utf-8")
        data = b"".join((random16, _LEN.pack(len(body)), body, self._appid_bytes))
        pad = _BLOCK_BYTES - len(data) % _BLOCK_BYTES
        data += bytes((pad,)) * pad
        enc = self._cipher.encryptor()
        return base64.b64encode(enc.update(data) + enc.finalize()).decode("ascii")

    def decrypt(self, encrypt_b64: str) -> str:
        """The XML inside an ``Encrypt`` value. MalformedMessage / InvalidAppId on bad input."""
        try:
            raw = base64.b64decode(encrypt_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedMessage("Encrypt is not valid base64") from exc
        if not raw or len(raw) % 16:
            raise MalformedMessage("Encrypt is not a whole number of AES blocks")
        dec = self._cipher.decryptor()
        plain = dec.update(raw) + dec.finalize()
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK_BYTES or pad > len(plain) or plain[-pad:] != bytes((pad,)) * pad:
            raise MalformedMessage("bad padding in Encrypt")
        content = plain[_RANDOM_BYTES:-pad]
        if len(content) < 4:
            raise MalformedMessage("Encrypt payload too short")
        (length,) = _LEN.unpack_from(content)
        if length > len(content) - 4:
            raise MalformedMessage("bad length in Encrypt payload")
        from_appid = content[4 + length :]
        if not hmac.compare_digest(from_appid, self._appid_bytes):
            raise InvalidAppId(f"message is for AppID {from_appid.decode('utf-8', 'replace')!r}")
        try:
            return content[4 : 4 + length].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessage("Encrypt payload is not UTF-8") from exc

    # -- envelopes ---------------------------------------------------------------------------
    def check_msg_signature(self, signature: str | None, timestamp: str, nonce: str, encrypt: str) -> bool:
        """True when ``signature`` is the msg_signature of ``encrypt``."""
        return _same(msg_signature(self.token, timestamp, nonce, encrypt), signature)

    def decrypt_message(
        self, body: bytes | str, msg_signature: str | None, timestamp: str, nonce: str
    ) -> str:
        """Verify and open a safe-mode webhook body; returns the inner message XML.

        MalformedMessage when the envelope is not one, InvalidSignature when msg_signature does
        not match (checked before any decryption), InvalidAppId for another account's message.
        """
        root, fields = parse_xml(body)
        if root != "xml":
            raise MalformedMessage(f"root element is <{root}>, not <xml>")
        encrypt = fields.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise MalformedMessage("missing Encrypt")
        if not self.check_msg_signature(msg_signature, str(timestamp), str(nonce), encrypt):
            raise InvalidSignature("msg_signature does not match")
        return self.decrypt(encrypt)

    def encrypt_message(
        self, reply_xml: str, nonce: str, timestamp: int, random16: bytes | None = None
    ) -> str:
        """The safe-mode envelope WeChat expects as the answer to a webhook call."""
        encrypt = self.encrypt(reply_xml, random16)
        signature = msg_signature(self.token, str(timestamp), str(nonce), encrypt)
        return (
            "<xml>"
            f"<Encrypt>{cdata(encrypt)}</Encrypt>"
            f"<MsgSignature>{cdata(signature)}</MsgSignature>"
            f"<TimeStamp>{int(timestamp)}</TimeStamp>"
            f"<Nonce>{cdata(str(nonce))}</Nonce>"
            "</xml>"
        )
