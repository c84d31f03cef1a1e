"""Retention runs: ``bewijslast retention run`` and, in ``serve``, one run a day per declared
municipality. The application judges what is due and records the run; this only asks it to,
as the system (the role ``koppeling``), and says what came of it."""

from __future__ import annotations

import logging
from uuid import UUID

from adapters.services.periodic import Periodic
from domain.application import Bewijslast
from domain.authorization import Actor, Grant, Role
from domain.commands import RunRetention
from domain.retention import NothingDue

log = logging.getLogger(__name__)
DAY_SECONDS = 24 * 3600.0


def retention_actor(name: str, municipality: str) -> Actor:
    """Who a run is recorded as: the process that ran it, as the system of that municipality."""
    return Actor.with_grants(name, [Grant(Role.SYSTEM, municipality)])


def run_retention(app: Bewijslast, municipality: str, actor: Actor) -> UUID | None:
    """The run recorded, or None when nothing was due."""
    try:
        return app.execute(RunRetention(municipality=municipality), actor)
    except NothingDue:
        return None


def declared_municipalities(app: Bewijslast) -> list[str]:
    organisation = app.organisation()
    return [] if organisation is None else sorted(organisation.controllers)


class RetentionRunner:
    """In ``serve``: every ``interval`` seconds, one run for each declared municipality. A run
    that fails is logged and tried again at the next interval; it never stops the server."""

    def __init__(self, app: Bewijslast, name: str, interval: float = DAY_SECONDS) -> None:
        self.app, self.name = app, name
        self._periodic = Periodic("retention", self.tick, lambda: interval)

    def tick(self) -> None:
        for municipality in declared_municipalities(self.app):
            try:
                run = run_retention(
                    self.app, municipality, retention_actor(self.name, municipality)
                )
            except Exception:
                log.exception("retention run for %s failed; tried again later", municipality)
                continue
            if run is not None:
                log.info("retention run %s for %s recorded", run, municipality)

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()
