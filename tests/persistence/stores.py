"""Ledger recorders on a test database, for the persistence tests."""

from __future__ import annotations

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from adapters.persistence.postgres import (
    LedgerPostgresApplicationRecorder,
    LedgerPostgresProcessRecorder,
)
from adapters.persistence.sqlite import (
    LedgerSQLiteApplicationRecorder,
    LedgerSQLiteProcessRecorder,
)
from ledger.verify import Report, verify_ledger

LedgerRecorder = LedgerPostgresApplicationRecorder | LedgerSQLiteApplicationRecorder


def postgres_datastore(db: object, **kwargs: object) -> PostgresDatastore:
    return PostgresDatastore(
        dbname=db.name, host=db.host, port=str(db.port), user=db.user, password="", **kwargs
    )


def postgres_recorder(db: object, *, process: bool = False) -> LedgerPostgresApplicationRecorder:
    datastore = postgres_datastore(db, pool_size=10, max_overflow=10)
    cls = LedgerPostgresProcessRecorder if process else LedgerPostgresApplicationRecorder
    recorder = cls(datastore, events_table_name="bewijslast_events")
    recorder.create_table()
    return recorder


def sqlite_recorder(path: str, *, process: bool = False) -> LedgerSQLiteApplicationRecorder:
    datastore = SQLiteDatastore(path, lock_timeout=30)
    cls = LedgerSQLiteProcessRecorder if process else LedgerSQLiteApplicationRecorder
    recorder = cls(datastore)
    recorder.create_table()
    return recorder


def verify_store(recorder: LedgerRecorder) -> Report:
    """Verify the whole stored ledger (no checkpoints needed for checks 1-4)."""
    size = recorder.ledger_size()
    return verify_ledger(
        recorder.records(0, size - 1),
        recorder.signed_checkpoints(),
        [],
        origin="test",
        reaches_end=True,
    )
