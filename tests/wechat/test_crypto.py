"""Signatures and safe-mode encryption against WeChat's published vectors."""

from __future__ import annotations

import base64

import pytest

from wechat.crypto import MessageCipher, check_signature, decode_aes_key, msg_signature
from wechat.errors import InvalidAppId, InvalidSignature, MalformedMessage
from wechat.messages import parse_inbound
from wechat.xmlsafe import parse_xml

ENCRYPT_VECTOR = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv28"
    "3dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nP"
    "wBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/"
    "54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNW"
    "Hp91eBdCRxthuL0="
)
DEC_TOKEN = "123456"
DEC_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
DEC_APPID = "wx49f0ab532d5d035a"
DEC_TS = "1411525903"
DEC_NONCE = "461056294"
DEC_SIG = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
ENVELOPE = (
    f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[{ENCRYPT_VECTOR}]]></Encrypt></xml>"
)


def test_check_signature_vector():
    assert check_signature("test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "1410685589", "test")
    assert not check_signature("test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443fe", "1410685589", "test")
    assert not check_signature("test", "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "1410685590", "test")
    assert not check_signature("test", None, "1410685589", "test")
    assert not check_signature("test", "不是签名", "1410685589", "test")


def test_encrypt_vector_with_fixed_random():
    cipher = MessageCipher("any", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxb11529c136998cb6")
    assert cipher.encrypt("我是中文abcd123", random16=b"aaaabbbbccccdddd") == (
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    )


def test_decrypt_message_vector():
    cipher = MessageCipher(DEC_TOKEN, DEC_KEY, DEC_APPID)
    xml = cipher.decrypt_message(ENVELOPE.encode(), DEC_SIG, DEC_TS, DEC_NONCE)
    msg = parse_inbound(xml)
    assert msg.msg_type == "text"
    assert msg.to_user and msg.openid
    assert cipher.decrypt(ENCRYPT_VECTOR) == xml


def test_decrypt_message_bad_signature():
    cipher = MessageCipher(DEC_TOKEN, DEC_KEY, DEC_APPID)
    with pytest.raises(InvalidSignature):
        cipher.decrypt_message(ENVELOPE.encode(), "0" * 40, DEC_TS, DEC_NONCE)
    with pytest.raises(InvalidSignature):
        cipher.decrypt_message(ENVELOPE.encode(), None, DEC_TS, DEC_NONCE)
    with pytest.raises(InvalidSignature):
        cipher.decrypt_message(ENVELOPE.encode(), DEC_SIG, DEC_TS, "461056295")


def test_decrypt_message_bad_envelope():
    cipher = MessageCipher(DEC_TOKEN, DEC_KEY, DEC_APPID)
    for body in (
        b"",
        b"not xml",
        b"<xml><ToUserName>x</ToUserName></xml>",
        b"<root><Encrypt>x</Encrypt></root>",
    ):
        with pytest.raises(MalformedMessage):
            cipher.decrypt_message(body, DEC_SIG, DEC_TS, DEC_NONCE)
    with pytest.raises(MalformedMessage):
        cipher.decrypt_message(b'<!DOCTYPE x [<!ENTITY a "b">]><xml><Encrypt>&a;</Encrypt></xml>', "", "", "")


def test_wrong_appid():
    other = MessageCipher(DEC_TOKEN, DEC_KEY, "wxsomeoneelse")
    with pytest.raises(InvalidAppId):
        other.decrypt(ENCRYPT_VECTOR)


@pytest.mark.parametrize(
    "bad",
    [
        "***not base64***",
        base64.b64encode(b"short").decode(),
        base64.b64encode(b"x" * 31).decode(),
        "",
    ],
)
def test_decrypt_bad_payload(bad):
    cipher = MessageCipher(DEC_TOKEN, DEC_KEY, DEC_APPID)
    with pytest.raises(MalformedMessage):
        cipher.decrypt(bad)


def test_decrypt_bad_padding_and_length():
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = decode_aes_key(DEC_KEY)

    def seal(plain: bytes) -> str:
        enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        return base64.b64encode(enc.update(plain) + enc.finalize()).decode()

    cipher = MessageCipher(DEC_TOKEN, DEC_KEY, DEC_APPID)
    with pytest.raises(MalformedMessage):
        cipher.decrypt(seal(b"a" * 31 + b"\x00"))  # pad value 0
    with pytest.raises(MalformedMessage):
        cipher.decrypt(seal(b"a" * 30 + b"\x03\x02"))  # inconsistent pad bytes
    with pytest.raises(MalformedMessage):
        cipher.decrypt(seal(b"r" * 16 + b"\xff\xff\xff\xff" + b"x" * 11 + b"\x01"))  # length beyond payload


def test_round_trip_and_envelope():
    cipher = MessageCipher("tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxb11529c136998cb6")
    for text in ("", "a", "我是中文" * 50, "x" * 32, "<xml>]]></xml>"):
        assert cipher.decrypt(cipher.encrypt(text)) == text
    envelope = cipher.encrypt_message("<xml><Content>你好</Content></xml>", nonce="n1", timestamp=1700000000)
    root, fields = parse_xml(envelope)
    assert root == "xml"
    assert fields["TimeStamp"] == "1700000000" and fields["Nonce"] == "n1"
    assert fields["MsgSignature"] == msg_signature("tok", "1700000000", "n1", fields["Encrypt"])
    assert cipher.decrypt_message(envelope, fields["MsgSignature"], "1700000000", "n1") == (
        "<xml><Content>你好</Content></xml>"
    )


@pytest.mark.parametrize("key", ["", "short", "a" * 42, "a" * 44, "!" * 43])
def test_aes_key_validated(key):
    with pytest.raises(ValueError, match="EncodingAESKey"):
        MessageCipher("t", key, "wx")
