"""Quality assurance (质检): rubrics, the work queue, reviews, the agents' answers and averages.

`QualityAssurance` is the one object the edge talks to (handlers/qa.py); it is built by
`desk.desk.Desk` from the store, the settings, the access policy and the teams:

* `desk.qa.rubrics` — rubrics and their rules (weights add up to 100, versions);
* `desk.qa.work_queue` — the sampling setting ``qa_sampling``, the sampler, assignment;
* `desk.qa.reviews` — scoring, who reads which reviews, acknowledge / dispute / resolve,
  averages per agent and team.

Records live in store/qa_records.py; the store's QA methods are at the end of store/base.py.
"""

from __future__ import annotations

from collections.abc import Callable

from desk.access import AccessPolicy
from desk.qa.reviews import Reviews
from desk.qa.rubrics import Rubrics
from desk.qa.work_queue import WorkQueue
from desk.settings import Settings
from desk.teams import Teams
from store.base import Store

__all__ = ["QualityAssurance"]


class QualityAssurance:
    def __init__(self, store: Store, settings: Settings, access: AccessPolicy, teams: Teams,
                 clock: Callable[[], float]) -> None:
        self.rubrics = Rubrics(store, clock)
        self.queue = WorkQueue(store, settings, access, clock)
        self.reviews = Reviews(store, access, teams, clock)
        self.reviews.on_reviewed = self.queue.reviewed

    def start(self) -> None:
        self.queue.start()

    def stop(self) -> None:
        self.queue.stop()
