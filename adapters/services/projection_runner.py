"""Runs projections from the ledger, exactly once per event, on SQLite and PostgreSQL alike.

A SQLite application cannot be subscribed to, so the runner polls the notification log in
order. Each batch of events is applied and the tracking position advanced in one transaction:
a crash mid-way rolls the batch back and the next run resumes from the last committed position,
neither skipping nor counting twice. Runners of the same projection (a follower, and the API
catching up before it answers, in one process or several) take turns: a batch first takes the
write lock on the projection's position, and leaves alone what another runner applied meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import Notification

from adapters.persistence.positions import ProjectionPositions as POSITIONS
from adapters.persistence.sqldb import Database
from adapters.persistence.stores import datastore_of
from domain.application import Bewijslast, RetentionCandidates, SubjectOwner
from projections.base import ReadModel
from projections.requests import RequestRegister, subject_owner
from projections.retention import RetentionRegister, retention_candidates

log = logging.getLogger(__name__)
BATCH = 500
SCHEMA = "projections"  # on PostgreSQL; SQLite has one namespace per file


class ProjectionFailed(Exception):
    """A read model could not apply a batch: it was rolled back, and the read model stays as
    it was before the batch. The ledger is not affected; the cause is chained."""

    def __init__(self, name: str, start: int, cause: Exception) -> None:
        super().__init__(
            f"read model {name} cannot apply the ledger entries from index {start} on "
            f"({type(cause).__name__}: {cause}); it holds the entries before them"
        )
        self.name = name


class PositionMoved(Exception):
    """The position moved under a batch that holds its lock: cannot happen, and is checked all
    the same, because applying events twice would go unnoticed. The batch was rolled back."""


class ReadModelRunner:
    def __init__(self, app: Bewijslast, projections: Sequence[ReadModel]) -> None:
        self.app = app
        self.projections = list(projections)
        self.db = Database(datastore_of(app), schema=SCHEMA)
        with self.db.transaction() as cursor:
            POSITIONS.create(cursor)
            for projection in self.projections:
                if POSITIONS.version(cursor, projection.name) == projection.version:
                    continue
                # New, or its tables changed shape: build it again from index 0.
                log.info(
                    "%s: building from index 0 (version %s)", projection.name, projection.version
                )
                projection.drop_tables(cursor)
                projection.create_tables(cursor)
                POSITIONS.start_over(cursor, projection.name, projection.version)
        self._stop = threading.Event()

    def position(self, projection: ReadModel) -> int:
        with self.db.reading() as cursor:
            return POSITIONS.position(cursor, projection.name)

    def catch_up(self, projection: ReadModel, *, limit: int | None = None) -> int:
        """Apply every event after the projection's position; return how many were applied."""
        applied = 0
        while limit is None or applied < limit:
            start = self.position(projection)
            size = BATCH if limit is None else min(BATCH, limit - applied)
            notifications = self.app.recorder.select_notifications(
                start, size, topics=projection.topics, inclusive_of_start=False
            )
            if not notifications:
                return applied
            # Opened before the write lock is taken: opening reads subject keys through the
            # key store's own connections, which may queue behind a writer that waits for
            # this very lock (on SQLite, the file's).
            try:
                events = [(self.app.mapper.to_domain_event(n), n.id) for n in notifications]
            except Exception as e:
                raise self._failed(projection, notifications, e) from e
            with self.db.transaction() as cursor:
                if POSITIONS.locked_position(cursor, projection.name) != start:
                    continue  # another runner applied this batch meanwhile
                try:
                    projection.apply_batch(cursor, events)
                except Exception as e:
                    raise self._failed(projection, notifications, e) from e
                if not POSITIONS.advance(cursor, projection.name, start, notifications[-1].id):
                    raise PositionMoved(f"{projection.name} moved on from {start}")
            applied += len(notifications)
        return applied

    @staticmethod
    def _failed(
        projection: ReadModel, notifications: Sequence[Notification], e: Exception
    ) -> ProjectionFailed:
        # Notification ids are ledger indices + 1.
        return ProjectionFailed(projection.name, notifications[0].id - 1, e)

    def catch_up_all(self) -> dict[str, int]:
        return {p.name: self.catch_up(p) for p in self.projections}

    def rebuild(self, projection: ReadModel) -> int:
        """From index 0: the tables are emptied and the position reset in one transaction."""
        with self.db.transaction() as cursor:
            projection.drop_tables(cursor)
            projection.create_tables(cursor)
            POSITIONS.rewind(cursor, projection.name)
        return self.catch_up(projection)

    def run(self, interval: float = 1.0) -> None:
        """Keep the projections caught up until ``stop()``."""
        self._stop.clear()
        while not self._stop.is_set():
            try:
                self.catch_up_all()
            except Exception:
                log.exception("projection run failed; retrying")
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()


def subject_owners(app: Bewijslast) -> SubjectOwner:
    """Where a data subject belongs, from the request register caught up to the ledger."""
    runners: list[ReadModelRunner] = []  # made on first use: opening the app writes nothing

    def owner(subject: UUID) -> tuple[str, str] | None:
        if not runners:
            runners.append(ReadModelRunner(app, [RequestRegister()]))
        runner = runners[0]
        runner.catch_up_all()
        with runner.db.transaction() as cursor:
            return subject_owner(cursor, str(subject))

    return owner


def retention_candidates_of(app: Bewijslast) -> RetentionCandidates:
    """The records whose file was closed, from the retention read model caught up to the
    ledger; the application judges each from its own events."""
    runners: list[ReadModelRunner] = []  # made on first use, as ``subject_owners``

    def candidates(municipality: str) -> list[UUID]:
        if not runners:
            runners.append(ReadModelRunner(app, [RetentionRegister()]))
        runner = runners[0]
        runner.catch_up_all()
        with runner.db.transaction() as cursor:
            return [UUID(record) for record in retention_candidates(cursor, municipality)]

    return candidates
