"""The records a `Store` deals in, as types: one TypedDict per kind of record, and the states.

Two shapes per kind. ``*Record`` is what a store returns: every field its ``*_record`` function
(store/base.py) fills in is present (``NotRequired`` marks the fields the desk adds later, such as
a session's ``handover``). ``*Fields`` (``total=False``) is what a caller passes to create or
update one: any subset; identity fields (``id``, a message's ``session_id`` …) are left out of
the update shapes because a store refuses to change them. ``New*`` adds those for creating.

These are static types only: at run time a record is a plain dict, and a store still keeps and
returns fields it does not know (see store/base.py), so a new field needs a line here, not a
migration.
"""

# No ``from __future__ import annotations`` here: TypedDict reads ``NotRequired`` from evaluated
# annotations, and `__required_keys__` would be wrong with string ones.
from typing import Any, Literal, NotRequired, Required, TypedDict, get_args

SessionState = Literal["queued", "offered", "assigned", "closed", "diverted", "bot"]
# Every session state, and those of a session still in the desk's hands (not closed/diverted).
SESSION_STATES: tuple[SessionState, ...] = get_args(SessionState)
OPEN_STATES: tuple[SessionState, ...] = ("queued", "offered", "assigned")
# Waiting in a skill's queue (offered: an agent may take it), and finished (closed by a person or
# the desk, or diverted to a left message). Compare with these, never with a bare tuple of strings:
# a misspelt state here is a mypy error, and so is one compared with ``==`` (strict_equality).
WAITING_STATES: tuple[SessionState, ...] = ("queued", "offered")
CLOSED_STATES: tuple[SessionState, ...] = ("closed", "diverted")

MessageDirection = Literal["in", "out", "internal"]
MESSAGE_DIRECTIONS: tuple[MessageDirection, ...] = get_args(MessageDirection)
MessageStatus = Literal["received", "pending", "sent", "failed"]
MESSAGE_STATUSES: tuple[MessageStatus, ...] = get_args(MessageStatus)

# A JSON object whose keys belong to someone else (a WeChat message, an engine event, the desk's
# reply budget): the store keeps it as it is given.
JSONObject = dict[str, Any]


# -- inbound log ---------------------------------------------------------------------------------

class InboundRecord(TypedDict):
    """A WeChat message as the webhook received it, and what became of it."""

    key: str  # de-duplication key: MsgId, or FromUserName+CreateTime for events
    openid: str
    message: JSONObject  # the parsed WeChat message
    received_at: float
    reply: str | None  # passive reply text WeChat was given, if any
    session_id: str | None  # session the message was filed under
    processed: bool  # the desk finished with it; False = replay on start
    processed_at: float | None


# -- customers -----------------------------------------------------------------------------------

class CustomerProfile(TypedDict, total=False):
    """The outcome of the last WeChat user-info fetch (desk/profiles.py)."""

    fetched_at: float
    subscribed: bool
    error: str


class CustomerFields(TypedDict, total=False):
    """Fields of a customer a caller sets (``upsert_customer``, ``update_customer``)."""

    first_seen: float
    last_seen: float
    nickname: str | None
    avatar_url: str | None
    profile: CustomerProfile
    tags: list[str]
    budget: JSONObject  # reply budget, e.g. {"window_start", "sent"}: the desk owns its keys
    last_skill: str | None
    # Self-service (desk/self_service.py): the bound bank customer (masked profile), the binding flow.
    bank: JSONObject | None
    self_service: JSONObject
    subscribed: bool  # follows the Official Account: WeChat's (un)subscribe events, a 43004
    subscribed_at: float | None  # when that last changed


class CustomerRecord(TypedDict):
    """A customer, keyed by the WeChat ``openid``."""

    openid: str
    first_seen: float
    last_seen: float
    nickname: str | None
    avatar_url: str | None
    profile: CustomerProfile
    tags: list[str]
    budget: JSONObject
    last_skill: str | None
    bank: NotRequired[JSONObject | None]  # set once bound (desk/self_service.py)
    self_service: NotRequired[JSONObject]
    subscribed: NotRequired[bool]  # absent until a (un)subscribe event or a 43004 said
    subscribed_at: NotRequired[float | None]


# -- sessions ------------------------------------------------------------------------------------

# An entry of ``session.transfers`` (desk/handover.py ``transfer_entry``). The functional form,
# because one key is ``from``.
Transfer = TypedDict("Transfer", {
    "kind": str,
    "from": str | None,
    "by": str | None,
    "to_agent": str | None,
    "to_skill": str | None,
    "note": str | None,
    "ts": float | None,
    "done_at": float,
    "accepted_by": str,
}, total=False)


class _SessionData(TypedDict, total=False):
    skill: str | None
    state: SessionState
    agent_id: str | None
    agents: list[str]
    priority: int
    created_at: float
    queued_at: float | None
    offered_at: float | None
    accepted_at: float | None
    closed_at: float | None
    wrapup: str | None
    note: str | None
    transfers: list[Transfer]
    close_reason: str | None
    last_customer_at: float | None
    offered_to: str | None
    handover: JSONObject | None
    # A leave-message (留言, desk/leave_messages.py): {"created_at", "due_at", "reason", "sla_s",
    # "outcome", "outcome_note", "callback", "closed_at", "closed_by"}; absent on other sessions.
    leave_message: JSONObject | None
    survey: JSONObject | None  # {"sent_at", "agent_id"}: the satisfaction survey went out (desk/satisfaction.py)
    csat: JSONObject | None  # {"score", "at", "agent_id", "comment"?, "comment_at"?}: the customer's answer


class SessionFields(_SessionData, total=False):
    """Fields of a session a caller sets (``update_session``); see `SessionRecord`."""

    openid: str


class NewSession(_SessionData, total=False):
    """What ``create_session`` takes: ``openid`` and any other field; ``id`` when the caller
    needs to know it before the write."""

    id: str
    openid: Required[str]


class SessionRecord(TypedDict):
    """A customer's conversation from first message to close."""

    id: str
    openid: str
    skill: str | None
    state: SessionState
    agent_id: str | None  # the agent holding it now
    agents: list[str]  # every agent who held it, in order
    priority: int
    created_at: float
    queued_at: float | None
    offered_at: float | None
    accepted_at: float | None
    closed_at: float | None
    wrapup: str | None
    note: str | None
    transfers: list[Transfer]
    close_reason: str | None
    last_customer_at: float | None
    offered_to: NotRequired[str | None]  # the agent an offer is out to (the desk's)
    handover: NotRequired[JSONObject | None]  # a transfer in progress (desk/handover.py)
    leave_message: NotRequired[JSONObject | None]  # a leave-message's SLA and outcome (desk/leave_messages.py)
    survey: NotRequired[JSONObject | None]  # the satisfaction survey went out (desk/satisfaction.py)
    csat: NotRequired[JSONObject | None]  # the customer's score (PROTOCOL v2: {"score", "at"}, …)


# -- messages ------------------------------------------------------------------------------------

class MessageFields(TypedDict, total=False):
    """Fields of a message a caller may change (``update_message``: typically status, error)."""

    openid: str | None
    direction: MessageDirection
    author: str  # customer | agent | supervisor | bot | system
    author_id: str | None
    author_name: str | None
    type: str  # text | image | voice | video | location | link | event | whisper | …
    text: str | None
    media: JSONObject | None  # {"media_id", "url", "format", …} for non-text messages
    ts: float
    status: MessageStatus
    error: str | JSONObject | None  # the desk keeps {"code", "message"} (desk/replies.py)
    wechat_time: int | None  # CreateTime of an inbound WeChat message


class NewMessage(MessageFields, total=False):
    """What ``add_message`` takes: ``session_id`` and any other field."""

    id: str
    session_id: Required[str]
    client_id: str | None  # the sender's own id for the message (de-duplicates its retries)


class MessageRecord(TypedDict):
    """A message of a session, numbered by ``seq`` (1, 2, … within the session)."""

    id: str
    session_id: str
    openid: str | None
    seq: int  # assigned by the store (None only inside `message_record`, before it is)
    direction: MessageDirection
    author: str
    author_id: str | None
    type: str
    text: str | None
    media: JSONObject | None
    ts: float
    status: MessageStatus
    error: str | JSONObject | None
    client_id: str | None
    author_name: NotRequired[str | None]
    wechat_time: NotRequired[int | None]


# -- users ---------------------------------------------------------------------------------------

class SkillLevel(TypedDict):
    name: str
    level: int  # 1..5


class _UserData(TypedDict, total=False):
    password_hash: str | None
    roles: list[str]  # e.g. ["agent"], ["supervisor", "agent"], ["admin"]
    skills: list[SkillLevel]
    max_sessions: int
    disabled: bool
    created_at: float
    token_generation: str  # changed to end every token issued before (desk/accounts.py)


class UserFields(_UserData, total=False):
    """Fields of a user a caller sets (``update_user``)."""

    username: str
    name: str


class NewUser(_UserData, total=False):
    """What ``create_user`` takes: ``username`` and any other field (``name`` defaults to it)."""

    id: str
    username: Required[str]
    name: str | None


class UserRecord(TypedDict):
    """A user of the consoles (agent, supervisor, admin, QA)."""

    id: str
    username: str
    name: str
    password_hash: str | None
    roles: list[str]
    skills: list[SkillLevel]
    max_sessions: int
    disabled: bool
    created_at: float
    token_generation: NotRequired[str]
    tokens_valid_after: NotRequired[float]  # records from before token generations (desk/accounts.py)


class PublicUser(TypedDict):
    """A user as the desk hands it out (the API, the socket's welcome, the ``user`` a feature is
    called with): `desk.accounts.Accounts.public` of a `UserRecord`, never its password hash or
    token generation."""

    id: str
    username: str
    name: str  # the username when the user has no name
    roles: list[str]
    skills: list[SkillLevel]
    max_sessions: int
    disabled: bool
    created_at: float | None


# -- teams ---------------------------------------------------------------------------------------

class _TeamData(TypedDict, total=False):
    supervisors: list[str]  # user ids of the team's supervisors
    members: list[str]  # user ids of the team's agents
    created_at: float
    updated_at: float | None


class TeamFields(_TeamData, total=False):
    """Fields of a team a caller sets (``update_team``)."""

    name: str


class NewTeam(_TeamData, total=False):
    """What ``create_team`` takes: ``name`` and any other field."""

    id: str
    name: Required[str]


class TeamRecord(TypedDict):
    """A team (组织机构): supervisors who see and act on its members (desk/teams.py)."""

    id: str
    name: str
    supervisors: list[str]
    members: list[str]
    created_at: float
    updated_at: float | None


# -- audit log -----------------------------------------------------------------------------------

class NewAuditEntry(TypedDict, total=False):
    """What ``add_audit`` takes: any of the fields of `AuditEntry`."""

    id: str
    ts: float
    actor_id: str | None
    action: str | None
    session_id: str | None
    target: str | None
    details: JSONObject


class AuditEntry(TypedDict):
    """Who did what to which session or target."""

    id: str
    ts: float
    actor_id: str | None
    action: str | None
    session_id: str | None
    target: str | None
    details: JSONObject


# -- routing log ---------------------------------------------------------------------------------

# The routing engine's events and snapshots are its own (routing/): the store keeps them as JSON
# and adds an event's ``seq``.
RoutingEvent = JSONObject
RoutingSnapshot = JSONObject


# -- canned replies (快捷回复) -------------------------------------------------------------------

CannedScope = Literal["public", "team", "personal"]
# Who a canned reply is for: everyone, one team (``team_id``), or one agent (``owner_id``).
CANNED_SCOPES: tuple[CannedScope, ...] = get_args(CannedScope)


class _CannedData(TypedDict, total=False):
    title: str
    category: str
    team_id: str | None
    owner_id: str | None
    updated_at: float | None
    updated_by: str | None


class CannedFields(_CannedData, total=False):
    """Fields of a canned reply a caller sets (``update_canned``): changing ``scope``,
    ``team_id`` or ``owner_id`` moves the reply to another owner."""

    shortcut: str
    text: str
    scope: CannedScope


class NewCannedReply(_CannedData, total=False):
    """What ``create_canned`` takes: ``shortcut``, ``text`` and ``scope`` at least."""

    id: str
    shortcut: Required[str]
    text: Required[str]
    scope: Required[CannedScope]
    created_at: float
    created_by: str | None


class CannedReplyRecord(TypedDict):
    """A canned reply: its shortcut is unique (case-insensitively) among its owner's replies."""

    id: str
    shortcut: str
    title: str
    text: str
    category: str  # "" when uncategorised
    scope: CannedScope
    team_id: str | None  # set for scope "team"
    owner_id: str | None  # the agent, for scope "personal"
    created_at: float
    created_by: str | None
    updated_at: float | None
    updated_by: str | None


# -- reports (运营报表; owned by the reports feature, desk/reports.py) ------------------------------

ReportGroup = Literal["skill", "agent", "bucket"]
# What a report groups stored sessions by: the skill, the agent who first accepted the session
# (``agents[0]``), or the `REPORT_BUCKET_SECS` slice of ``queued_at`` (folded into local days and
# hours by the desk, so any time zone's day and hour keys come from one query).
REPORT_GROUPS: tuple[ReportGroup, ...] = get_args(ReportGroup)
REPORT_BUCKET_SECS = 900  # 15 minutes: every time zone's offset is a multiple of it
# A session that was never accepted and ended for one of these reasons was abandoned: the
# customer left (unsubscribed) while waiting, or it waited past the skill's ``max_wait_s``.
ABANDONED_REASONS: tuple[str, ...] = ("abandoned", "max_wait")

AgentState = Literal["available", "busy", "away", "wrapup", "offline"]
AGENT_STATES: tuple[AgentState, ...] = get_args(AgentState)
# A stored agent-state interval never spans more than this (a longer one is cut into pieces),
# so a report finds the pieces overlapping its range by their start alone, through an index.
AGENT_STATE_PIECE_SECS = 86400.0


class ReportPartial(TypedDict):
    """Sums and counts of the sessions of one group (``report_partials``), from which the
    desk computes a report row (means, service level) after merging groups (days, teams)."""

    key: str | None  # the skill, the first agent's id, or the bucket number as a string
    offered: int
    answered: int
    answered_in_sla: int
    abandoned: int
    abandoned_after_sla: int
    wait_sum: float  # Σ accepted_at − queued_at over answered sessions
    handle_sum: float  # Σ closed_at − accepted_at over answered, closed sessions
    handle_n: int
    frt_sum: float  # Σ first agent message ts − accepted_at over answered sessions with one
    frt_n: int
    transfers: int
    csat_sum: float
    csat_n: int


# -- notifications (template messages, desk/notifications.py) ------------------------------------

NotificationStatus = Literal["pending", "sent", "refused", "failed"]
NOTIFICATION_STATUSES: tuple[NotificationStatus, ...] = get_args(NotificationStatus)


class NotificationFields(TypedDict, total=False):
    """Fields of a notification a caller changes after the WeChat call (``update_notification``)."""

    status: NotificationStatus
    msgid: int | None  # WeChat's msgid of the template message
    error: JSONObject | None  # {"code", "message", "errcode"} when refused or failed
    sent_at: float | None
    session_id: str | None  # the transcript the template message was filed into
    message_id: str | None  # its message there
    delivery: str | None  # WeChat's report (TEMPLATESENDJOBFINISH Status): success, failed:user block, …
    delivery_at: float | None


class NewNotification(NotificationFields, total=False):
    """What ``add_notification`` takes: ``openid`` and ``template_id`` at least."""

    id: str
    openid: Required[str]
    template_id: Required[str]
    title: str
    kind: str
    data: JSONObject  # {field key: {"value", "color"?}} as sent
    url: str | None
    created_at: float
    created_by: str | None  # the user (a bank system's integration user, an agent) who sent it


class NotificationRecord(TypedDict):
    """A template message Kefu sent (or tried to send) to a customer."""

    id: str
    openid: str
    template_id: str
    title: str
    kind: str
    data: JSONObject
    url: str | None
    status: NotificationStatus
    msgid: int | None
    error: JSONObject | None
    created_at: float
    created_by: str | None
    sent_at: float | None
    session_id: str | None
    message_id: str | None
    delivery: str | None
    delivery_at: float | None


# -- the bot's answer usage (desk/bot_stats.py) -------------------------------------------------

class BotAnswerCounts(TypedDict):
    """How often the bot gave one answer, and how often a session it was given in went to a human."""

    used: int
    handed_over: int
    last_used_at: float | None
