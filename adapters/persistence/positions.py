"""How far a follower of the ledger got: the relay's position and lease (``relay_positions``),
and each read model's (``projection_positions``). One row per relay or read model name."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.persistence.appending import Clock, utc_now
from adapters.persistence.schema import (
    PROJECTION_POSITIONS,
    RELAY_POSITIONS,
    migrate,
    table_exists,
)
from adapters.persistence.sqldb import Cursor, Database
from ledger.entry import format_recorded_at

LEASE_SECONDS = 15.0

# --- the relay ---------------------------------------------------------------------------

INSERT_RELAY = (
    "INSERT INTO relay_positions VALUES (?, 0, 0, NULL, '') ON CONFLICT (name) DO NOTHING"
)
TAKE_LEASE = (
    "UPDATE relay_positions SET holder = ?, lease_until = ? WHERE name = ? "
    "AND (holder IS NULL OR holder = ? OR lease_until < ?)"
)
SELECT_RELAY = "SELECT next_index, checkpoint_size FROM relay_positions WHERE name = ?"
ADVANCE_RELAY = (
    "UPDATE relay_positions SET next_index = ?, checkpoint_size = ? WHERE name = ? "
    "AND holder = ? AND next_index = ? AND checkpoint_size = ?"
)
SELECT_RELAYS = "SELECT name, next_index FROM relay_positions"
RELEASE_LEASE = (
    "UPDATE relay_positions SET holder = NULL, lease_until = '' WHERE name = ? AND holder = ?"
)


class LeaseHeld(Exception):
    """Another relay holds this ledger's lease."""


class LeaseLost(Exception):
    """The lease passed to another relay, or the position moved, during a batch."""


@dataclass(frozen=True)
class Position:
    next_index: int  # entries 0 .. next_index - 1 are confirmed
    checkpoint_size: int  # checkpoints up to this tree size are confirmed


class RelayTracking:
    """The relay's position and lease: one row per relay name in the event-store database."""

    def __init__(
        self,
        db: Database,
        name: str,
        *,
        lease_seconds: float = LEASE_SECONDS,
        clock: Clock = utc_now,
    ) -> None:
        self.db, self.name, self.clock = db, name, clock
        self.lease = timedelta(seconds=lease_seconds)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._renew_after: datetime | None = None
        with db.transaction() as cursor:
            migrate(RELAY_POSITIONS, cursor)
            cursor.execute(INSERT_RELAY, (name,))

    def hold(self) -> Position:
        """Take or renew the lease (renewed once half of it has passed); the position."""
        now = self.clock()
        with self.db.transaction() as cursor:
            if self._renew_after is None or now >= self._renew_after:
                cursor.execute(
                    TAKE_LEASE,
                    (
                        self.holder,
                        format_recorded_at(now + self.lease),
                        self.name,
                        self.holder,
                        format_recorded_at(now),
                    ),
                )
                if cursor.rowcount != 1:
                    self._renew_after = None
                    raise LeaseHeld(f"relay {self.name!r} is held by another relay")
                self._renew_after = now + self.lease / 2
            return self._read(cursor)

    def position(self) -> Position:
        with self.db.transaction() as cursor:
            return self._read(cursor)

    def _read(self, cursor: Cursor) -> Position:
        cursor.execute(SELECT_RELAY, (self.name,))
        row = cursor.fetchone()
        return Position(int(row[0]), int(row[1]))

    def advance(self, start: Position, to: Position) -> None:
        with self.db.transaction() as cursor:
            cursor.execute(
                ADVANCE_RELAY,
                (
                    to.next_index,
                    to.checkpoint_size,
                    self.name,
                    self.holder,
                    start.next_index,
                    start.checkpoint_size,
                ),
            )
            if cursor.rowcount != 1:
                self._renew_after = None
                raise LeaseLost(f"relay {self.name!r} lost its lease or moved on from {start}")

    def release(self) -> None:
        """On a graceful stop: the next relay need not wait for the lease to run out."""
        with self.db.transaction() as cursor:
            cursor.execute(RELEASE_LEASE, (self.name, self.holder))
        self._renew_after = None


def relay_positions(db: Database) -> dict[str, int]:
    """Each relay's next index; none where no relay ever ran."""
    with db.reading() as cursor:
        if not table_exists(cursor, "relay_positions"):
            return {}
        cursor.execute(SELECT_RELAYS)
        return {row[0]: int(row[1]) for row in cursor.fetchall()}


# --- the read models -----------------------------------------------------------------------

SELECT_VERSION = "SELECT version FROM projection_positions WHERE name = ?"
START_OVER = (
    "INSERT INTO projection_positions (name, position, version) VALUES (?, 0, ?) "
    "ON CONFLICT (name) DO UPDATE SET position = 0, version = excluded.version"
)
SELECT_POSITION = "SELECT position FROM projection_positions WHERE name = ?"
# A write first: it waits for the lock (a row lock on PostgreSQL, the file's write lock on
# SQLite, where a read first would fail instead of waiting).
LOCK_POSITION = "UPDATE projection_positions SET position = position WHERE name = ?"
ADVANCE_POSITION = "UPDATE projection_positions SET position = ? WHERE name = ? AND position = ?"
REWIND_POSITION = "UPDATE projection_positions SET position = 0 WHERE name = ?"


class ProjectionPositions:
    """Each read model's position and the version of its tables' shape, in the transaction
    of the caller (which applies events to the read model in the same one)."""

    @staticmethod
    def create(cursor: Cursor) -> None:
        migrate(PROJECTION_POSITIONS, cursor)

    @staticmethod
    def version(cursor: Cursor, name: str) -> int | None:
        cursor.execute(SELECT_VERSION, (name,))
        row = cursor.fetchone()
        return None if row is None else int(row[0])

    @staticmethod
    def start_over(cursor: Cursor, name: str, version: int) -> None:
        """At position 0, with tables of shape ``version``."""
        cursor.execute(START_OVER, (name, version))

    @staticmethod
    def position(cursor: Cursor, name: str) -> int:
        cursor.execute(SELECT_POSITION, (name,))
        return int(cursor.fetchone()[0])

    @staticmethod
    def locked_position(cursor: Cursor, name: str) -> int:
        """The position, locked until the transaction ends."""
        cursor.execute(LOCK_POSITION, (name,))
        return ProjectionPositions.position(cursor, name)

    @staticmethod
    def advance(cursor: Cursor, name: str, start: int, to: int) -> bool:
        """Whether the position moved from ``start`` to ``to`` (no one moved it meanwhile)."""
        cursor.execute(ADVANCE_POSITION, (to, name, start))
        return cursor.rowcount == 1

    @staticmethod
    def rewind(cursor: Cursor, name: str) -> None:
        cursor.execute(REWIND_POSITION, (name,))
