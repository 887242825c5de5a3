"""The desk's shared collaborators, built once by `desk.desk.Desk` and handed to every feature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from desk.access import AccessPolicy
from desk.audience import Audience
from desk.catalogue import Catalogue
from desk.lifecycle import Lifecycle
from desk.lookups import Lookups
from desk.replies import Replies
from desk.routing_driver import RoutingDriver
from desk.settings import Settings
from desk.skills import Skills
from desk.teams import Teams
from desk.texts import SystemTexts
from desk.views import SessionViews
from desk.watchers import Watchers
from kefu_config import Config
from store.base import Store

if TYPE_CHECKING:  # desk.supervision builds on these parts
    from desk.notifications import Notifications
    from desk.supervision import Wall


@dataclass(frozen=True)
class DeskParts:
    store: Store
    config: Config
    clock: Callable[[], float]
    routing: RoutingDriver
    lifecycle: Lifecycle
    audience: Audience
    views: SessionViews
    lookups: Lookups
    access: AccessPolicy
    watchers: Watchers
    catalogue: Catalogue
    replies: Replies
    settings: Settings
    texts: SystemTexts
    wall: Wall
    teams: Teams
    skills: Skills
    notifications: Notifications  # template messages: send_template (desk/notifications.py)
