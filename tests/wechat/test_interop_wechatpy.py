"""Safe mode interoperates with wechatpy, an independent, widely used implementation of WeChat's
message encryption: each side opens what the other sealed. (Kefu's own crypto is on
``cryptography`` for constant-time checks and strict padding; see docs/operations.md.)"""

from __future__ import annotations

from wechatpy.crypto import WeChatCrypto

from wechat.crypto import MessageCipher
from wechat.messages import parse_inbound

TOKEN = "interop-token"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
APPID = "wx49f0ab532d5d035a"
XML = ("<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o-interop]]></FromUserName>"
       "<CreateTime>1411525903</CreateTime><MsgType><![CDATA[text]]></MsgType>"
       "<Content><![CDATA[你好，世界 ]]]]><![CDATA[> <b>]]></Content><MsgId>1234567890</MsgId></xml>")


def test_kefu_opens_what_wechatpy_seals() -> None:
    sealed = WeChatCrypto(TOKEN, AES_KEY, APPID).encrypt_message(XML, "nonce1", 1411525903)
    from wechat.xmlsafe import parse_xml

    _, fields = parse_xml(sealed)
    opened = MessageCipher(TOKEN, AES_KEY, APPID).decrypt_message(
        sealed, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
    message = parse_inbound(opened)
    assert message.content == "你好，世界 ]]> <b>"
    assert message.msg_id == "1234567890"


def test_wechatpy_opens_what_kefu_seals() -> None:
    sealed = MessageCipher(TOKEN, AES_KEY, APPID).encrypt_message(XML, "nonce2", 1411525904)
    from wechat.xmlsafe import parse_xml

    _, fields = parse_xml(sealed)
    opened = WeChatCrypto(TOKEN, AES_KEY, APPID).decrypt_message(
        sealed, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
    assert opened == XML
