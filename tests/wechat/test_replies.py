"""Passive replies: well-formed, and impossible to inject elements into."""

from __future__ import annotations

from wechat.replies import SUCCESS, cdata, image_reply, news_reply, text_reply
from wechat.xmlsafe import parse_xml


def test_cdata_splits_terminator():
    assert cdata("a]]>b") == "<![CDATA[a]]]]><![CDATA[>b]]>"
    assert parse_xml(f"<xml><A>{cdata('a]]>b]]>')}</A></xml>")[1]["A"] == "a]]>b]]>"


def test_text_reply_round_trip():
    root, f = parse_xml(text_reply("o_cust", "gh_acct", "您好，请问有什么可以帮您？", 1700000000))
    assert root == "xml"
    assert f == {
        "ToUserName": "o_cust",
        "FromUserName": "gh_acct",
        "CreateTime": "1700000000",
        "MsgType": "text",
        "Content": "您好，请问有什么可以帮您？",
    }


def test_text_reply_cannot_inject_elements():
    evil = "hi]]></Content><MsgType><![CDATA[image]]></MsgType><Content><![CDATA[x"
    root, f = parse_xml(text_reply("o]]><FromUserName>evil</FromUserName>", "gh", evil, 1))
    assert f["MsgType"] == "text"
    assert f["Content"] == evil
    assert f["ToUserName"] == "o]]><FromUserName>evil</FromUserName>"
    assert f["FromUserName"] == "gh"
    assert set(f) == {"ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"}


def test_news_and_image_replies():
    _, f = parse_xml(
        news_reply(
            "o", "gh", [{"title": "T]]>", "description": "D", "picurl": "http://p", "url": "http://u"}], 5
        )
    )
    assert f["MsgType"] == "news" and f["ArticleCount"] == "1"
    assert f["Articles"]["item"] == {
        "Title": "T]]>",
        "Description": "D",
        "PicUrl": "http://p",
        "Url": "http://u",
    }
    _, f = parse_xml(image_reply("o", "gh", "mid", 5))
    assert f["Image"] == {"MediaId": "mid"}
    assert SUCCESS == "success"
