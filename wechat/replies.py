"""Passive replies: the XML Kefu answers a webhook call with.

Every text value goes through ``cdata`` so nothing a customer or an agent writes can close the
CDATA section and inject elements (``]]>`` is split across two sections).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# The answer meaning "received, no passive reply" (an empty body works too).
SUCCESS = "success"

# WeChat shows at most 8 articles in one news reply (1 since 2018 for most accounts).
MAX_NEWS_ARTICLES = 8


def cdata(text: object) -> str:
    """``text`` as a CDATA section that cannot be closed early."""
    return "<![CDATA[" + str(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _head(to_user: str, from_user: str, create_time: int, msg_type: str) -> str:
    return (
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
        f"<MsgType>{cdata(msg_type)}</MsgType>"
    )


def text_reply(to_user: str, from_user: str, content: str, create_time: int) -> str:
    """A passive text reply. ``to_user`` is the customer's openid, ``from_user`` our account."""
    return f"<xml>{_head(to_user, from_user, create_time, 'text')}<Content>{cdata(content)}</Content></xml>"


def image_reply(to_user: str, from_user: str, media_id: str, create_time: int) -> str:
    """A passive image reply of an uploaded ``media_id``."""
    return (
        f"<xml>{_head(to_user, from_user, create_time, 'image')}"
        f"<Image><MediaId>{cdata(media_id)}</MediaId></Image></xml>"
    )


def news_reply(to_user: str, from_user: str, articles: Iterable[Mapping[str, str]], create_time: int) -> str:
    """A passive news (article card) reply; each article has title, description, picurl, url."""
    items = list(articles)[:MAX_NEWS_ARTICLES]
    body = "".join(
        "<item>"
        f"<Title>{cdata(a.get('title', ''))}</Title>"
        f"<Description>{cdata(a.get('description', ''))}</Description>"
        f"<PicUrl>{cdata(a.get('picurl', a.get('pic_url', '')))}</PicUrl>"
        f"<Url>{cdata(a.get('url', ''))}</Url>"
        "</item>"
        for a in items
    )
    return (
        f"<xml>{_head(to_user, from_user, create_time, 'news')}"
        f"<ArticleCount>{len(items)}</ArticleCount><Articles>{body}</Articles></xml>"
    )


def transfer_customer_service_reply(to_user: str, from_user: str, create_time: int) -> str:
    """Hand the message to WeChat's own customer-service system (not used by Kefu's desk)."""
    return f"<xml>{_head(to_user, from_user, create_time, 'transfer_customer_service')}</xml>"
