"""The roles, and which of them may do what, defined once for the desk, the socket and the REST edge."""

from __future__ import annotations

from store.records import PublicUser

# ``integration``: a bank system calling the API (POST /api/notifications), no console.
ROLES = ("admin", "supervisor", "agent", "qa", "integration")
AGENT_ROLES = frozenset({"agent"})
# Supervisors and admins watch queues and sessions, whisper, barge, reassign, set presence.
STAFF_ROLES = frozenset({"admin", "supervisor"})
# Roles whose reads are not limited to the customers of particular agents.
READ_ALL_ROLES = frozenset({"admin", "qa"})
# Roles that may search sessions across customers (a search is a list of many customers).
SEARCH_ROLES = frozenset({"admin", "supervisor", "qa"})
# Who may send template messages through the API (desk/notifications.py): the bank's systems and admins.
NOTIFY_ROLES = frozenset({"integration", "admin"})


def roles_of(user: PublicUser) -> set[str]:
    return set(user.get("roles") or ())


def is_agent(user: PublicUser) -> bool:
    return bool(roles_of(user) & AGENT_ROLES)
