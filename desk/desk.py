"""The service desk: a composition of features around one lifecycle; the one object the edge talks to.

``Desk`` builds the shared parts (`desk.parts.DeskParts`: store, routing driver, lifecycle,
audience, views, access policy, replies, …) and the features listed in :data:`FEATURES`; each
feature registers its own socket commands (`desk.commands`). Commands reach the desk through one
interface, :meth:`Desk.command` (user, command name, frame, connection key), and every event leaves
through the bus (`desk.audience.Audience`), so a process that only forwards commands and relays
events can sit in front of it. Adding a feature is a module and one line in ``FEATURES``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bank.adapter import BankAdapter
from bus.base import Bus
from desk.access import AccessPolicy
from desk.accounts import Accounts
from desk.agent_commands import AgentCommands
from desk.agent_states import AgentStateLog
from desk.alerts import Alerts
from desk.audience import Audience
from desk.bot import Bot
from desk.canned import CannedReplies
from desk.catalogue import Catalogue
from desk.commands import CommandRegistry, specs_of
from desk.customer_records import CustomerRecords
from desk.housekeeping import Housekeeping
from desk.inbound import InboundLog
from desk.leave_messages import LeaveMessages
from desk.lifecycle import Lifecycle
from desk.lookups import Lookups
from desk.menu import WeChatMenu
from desk.metrics import Metrics
from desk.notifications import Notifications
from desk.parts import DeskParts
from desk.passive import PassiveReplies
from desk.pipeline import InboundPipeline
from desk.priority import PriorityRules
from desk.profiles import CustomerProfiles
from desk.reads import Reads
from desk.replies import Replies
from desk.reports import Reports
from desk.routing_driver import RoutingDriver
from desk.satisfaction import Satisfaction
from desk.self_service import SelfService
from desk.settings import Settings
from desk.skills import Skills
from desk.supervision import MONITOR_MAX_MESSAGES, Supervision, Wall
from desk.teams import Teams
from desk.texts import SystemTexts
from desk.views import SessionViews
from desk.watchers import Watchers
from kefu_config import Config
from store.base import Store
from store.records import CustomerRecord, PublicUser
from wechat.client import WeChatClient
from wechat.messages import InboundMessage

__all__ = ["FEATURES", "MONITOR_MAX_MESSAGES", "Desk", "command_names", "feature_classes"]

# The features whose commands and hooks make up the desk, each built from the shared parts.
FEATURES: tuple[Callable[[DeskParts], object], ...] = (
    AgentCommands,
    Supervision,
    Housekeeping,
    LeaveMessages,  # 留言: diverted sessions as work with an SLA
    Satisfaction,  # 满意度: the survey after a close, the customer's score
    Alerts,  # 告警: thresholds crossed and recovered, to supervisors
)


def feature_classes() -> list[type]:
    """Every class whose commands the desk registers (the features and the replies)."""
    return [*(f for f in FEATURES if isinstance(f, type)), Replies]


def command_names() -> set[str]:
    """The names of every command the desk's features register."""
    return {spec.name for cls in feature_classes() for spec in specs_of(cls)}


class Desk:
    def __init__(self, store: Store, bus: Bus, accounts: Accounts, wechat: WeChatClient, config: Config,
                 clock: Callable[[], float] = time.time, metrics: Metrics | None = None,
                 bank: BankAdapter | None = None) -> None:
        self.store = store
        self.bus = bus
        self.accounts = accounts
        self.config = config
        self.clock = clock
        self.metrics = metrics
        now = self._now
        self.audience = Audience(bus)
        self.routing = RoutingDriver(store, clock, offer_timeout=config.offer_timeout,
                                     disconnect_grace=config.disconnect_grace,
                                     observe=metrics.observe_routing if metrics is not None else None)
        wall = Wall(store, self.routing, now)
        self.watchers = Watchers(self.audience.publish, wall.snapshot, narrow=Wall.narrow)
        self.audience.watchers = self.watchers
        wall.refresh_secs = lambda: self.watchers.refresh_secs
        views = SessionViews(store, now)
        lookups = Lookups(store, now)
        # The bot's answers ride in the webhook's answer when they are ready in time (desk/passive.py).
        self.passive = PassiveReplies()
        self.replies = Replies(store, self.audience, views, lookups, wechat, now, metrics, passive=self.passive)
        # Settings as data: features declare theirs (SettingSpec) and listen for changes.
        self.settings = Settings(store, now)
        # What the desk tells customers by itself, the wrap-up codes and the keyword rules.
        self.texts = SystemTexts(self.settings, self.replies.system_reply, self.replies.system_notice,
                                 lambda: self.catalogue.skill_names(), lambda: self.catalogue.skill_labels(),
                                 demo=bool(getattr(config, "demo", False)))
        self.lifecycle = Lifecycle(store, self.routing, self.audience, views, self.watchers, now, self.texts.tell)
        self.skills = Skills(self.settings, self.lifecycle, config.default_skill, config.offer_timeout)
        self.priority_rules = PriorityRules(self.settings)
        self.catalogue = Catalogue(store, config.default_skill, self.skills,
                                   wrapup_codes=lambda: self.texts.wrapup_codes())
        self.teams = Teams(store, now)  # who supervises whom (the access policy's scope)
        # Canned replies (快捷回复): team scope from the teams feature.
        self.canned = CannedReplies(store, now, team_ids_of=self.teams.member_team_ids,
                                    supervised_team_ids=self.teams.supervised_team_ids)
        self.access = AccessPolicy(store, clock, self.teams)  # who reads which customers: every read asks it
        # Reports (运营报表): the durable agent-state log the lifecycle feeds, and the report queries.
        self.agent_states = AgentStateLog(store, self.routing, now)
        self.lifecycle.followers.on_agents = self.agent_states.observe
        self.reports = Reports(store, self.skills, self.teams, self.access, now)
        self.menu = WeChatMenu(store, self.settings, wechat, now)  # the Official Account's custom menu
        # 信息推送: template messages (the bank's API; a feature's, e.g. a leave-message answered
        # after WeChat's 48-hour window, through parts.notifications.send_template).
        self.notifications = Notifications(store, self.settings, self.access, self.audience, now, config, wechat,
                                           metrics)
        self.parts = DeskParts(store=store, config=config, clock=now, routing=self.routing,
                               lifecycle=self.lifecycle, audience=self.audience, views=views, lookups=lookups,
                               access=self.access, watchers=self.watchers, catalogue=self.catalogue,
                               replies=self.replies, settings=self.settings, texts=self.texts, wall=wall,
                               teams=self.teams, skills=self.skills, notifications=self.notifications)
        self.bot = Bot(store, self.settings, self.skills, self.replies, self.texts, config.idle_timeout,
                       self.lifecycle.create_bot_session, now)  # 客服机器人
        self.profiles = CustomerProfiles(store, wechat, self._profile_arrived, clock)
        # Self-service through the bank adapter (绑定, 账单, 余额…): a stage before the bot.
        self.self_service = SelfService(store, self.settings, self.replies.system_notice, bank, now,
                                        customer_changed=self._profile_arrived, passive=self.passive)
        self.pipeline = InboundPipeline(store, self.routing, self.lifecycle, self.audience, views, self.profiles,
                                        config, self.texts, metrics, priority=self.priority_rules.priority,
                                        bot=self.bot, self_service=self.self_service.stage)
        self.inbound = InboundLog(store, self.pipeline.process, clock, passive=self.passive,
                                  passive_wanted=self._passive_wanted)
        self.customer_records = CustomerRecords(store, self.access, self.pipeline.profile_arrived, now)
        self.reads = Reads(store, self.access, views, wall.snapshot, now)
        self.features = [make(self.parts) for make in FEATURES]
        self.agents = next(f for f in self.features if isinstance(f, AgentCommands))
        self.supervision = next(f for f in self.features if isinstance(f, Supervision))
        self.housekeeping = next(f for f in self.features if isinstance(f, Housekeeping))
        self.leave_messages = next(f for f in self.features if isinstance(f, LeaveMessages))
        self.pipeline.leave_message_joined = self.leave_messages.customer_wrote
        self.leave_messages.priority = self.priority_rules.priority
        self.satisfaction = next(f for f in self.features if isinstance(f, Satisfaction))
        self.alerts = next(f for f in self.features if isinstance(f, Alerts))
        # A survey answer is taken before the bot or a new session would take the message.
        self.pipeline.stages.insert(1, self.satisfaction.answer_stage)
        # A leave-message answered after WeChat's window: the template alternative goes through it.
        self.leave_messages.use_notifications(self.notifications, self.settings)
        # WeChat's report on each template message stops right after the customer is identified.
        self.pipeline.stages.insert(1, self.notifications.delivery_report)
        self.commands = CommandRegistry.of([*self.features, self.replies])
        self._stopping = False

    def _passive_wanted(self, message: InboundMessage) -> bool:
        """The webhook waits for an answer the bot or self-service may give (desk.passive)."""
        return self.bot.may_answer(message) or self.self_service.may_answer(message)

    def _now(self) -> float:
        return self.clock()  # read at each call: tests move the desk's clock

    # -- start / stop ----------------------------------------------------------------------------
    async def start(self) -> None:
        await self.teams.load()
        await self.skills.prime()  # the queues' configuration is known before the engine is rebuilt
        await self.lifecycle.start(await self.catalogue.skill_names())
        await self.settings.apply_all()  # the engine and the desk begin from the stored settings
        await self.canned.import_legacy()
        self.bus.on_user_gone(self._user_gone)
        self.bus.on_user_back(self._user_back)
        self.accounts.on_user_disabled(self.agent_disabled)
        self.accounts.on_user_changed(self.lifecycle.agent_changed)
        await self.satisfaction.prime()
        await self.notifications.recover()  # template messages a stop interrupted mid-send
        await self.inbound.recover()
        self.housekeeping.start()
        self.leave_messages.start()
        self.alerts.start()

    async def drain(self) -> None:
        """Finish in-flight webhooks' processing and replies (graceful shutdown)."""
        await self.inbound.drain()
        await self.replies.drain()

    async def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self.housekeeping.stop()
        self.leave_messages.stop()
        await self.leave_messages.backlog.idle()  # a pass under way finishes before the engine stops
        self.alerts.stop()
        self.profiles.stop()
        self.watchers.close()
        await self.lifecycle.stop()
        await self.self_service.close()

    # -- the one entry for commands and connections ---------------------------------------------
    async def command(self, user: PublicUser, name: str, msg: dict[str, Any], conn_key: str) -> Any:
        """A console's command: checked against its feature's schema, then carried out."""
        return await self.commands.dispatch(user, name, msg, conn_key)

    def command_names(self) -> set[str]:
        return self.commands.names()

    async def welcome(self, user: PublicUser) -> dict[str, Any]:
        body = await self.agents.welcome(user)
        alerts = await self.alerts.for_user(user)  # a supervisor who connects during an alert sees it
        return {**body, "alerts": alerts} if alerts else body

    async def connection_closed(self, user: PublicUser, conn_key: str) -> None:
        await self.supervision.connection_closed(user, conn_key)

    # -- inbound ----------------------------------------------------------------------------------
    async def ingest(self, message: InboundMessage) -> str:
        """Store a WeChat message durably (once) and return WeChat's answer."""
        return await self.inbound.ingest(message)

    async def _profile_arrived(self, customer: CustomerRecord) -> None:
        await self.pipeline.profile_arrived(customer)

    # -- reads (REST) -------------------------------------------------------------------------------
    async def get_session(self, user: PublicUser, session_id: str) -> dict[str, Any]:
        return await self.reads.get_session(user, session_id)

    async def search_sessions(self, user: PublicUser, **filters: Any) -> dict[str, Any]:
        return await self.reads.search_sessions(user, **filters)

    async def get_customer(self, user: PublicUser, openid: str) -> dict[str, Any]:
        return await self.reads.get_customer(user, openid)

    async def update_customer(self, user: PublicUser, openid: str, body: Any) -> CustomerRecord:
        return await self.customer_records.update(user, openid, body)

    async def customer_sessions(self, user: PublicUser, openid: str) -> dict[str, Any]:
        return await self.reads.customer_sessions(user, openid)

    async def queues_snapshot(self, user: PublicUser | None = None) -> dict[str, Any]:
        return await self.reads.queues_snapshot(user)

    async def agents_snapshot(self, user: PublicUser | None = None) -> dict[str, Any]:
        return await self.reads.agents_snapshot(user)

    async def wall_snapshot(self) -> dict[str, Any]:
        return await self.parts.wall.snapshot()

    async def skills_catalogue(self) -> dict[str, Any]:
        return await self.catalogue.skills()

    # -- agents coming and going (the bus's registry tells) ----------------------------------------
    async def _user_gone(self, user_id: str) -> None:
        if not self._stopping:
            await self.lifecycle.agent_disconnected(user_id)

    async def _user_back(self, user_id: str) -> None:
        await self.lifecycle.agent_reconnected(user_id)

    async def agent_disabled(self, user_id: str) -> None:
        await self.lifecycle.set_presence(user_id, "offline")

    async def close_idle_sessions(self) -> int:
        return await self.housekeeping.close_idle_sessions()
