"""What the adapters find on an application: its ledger store and its datastore, typed.

The application's recorder is one of this package's two ledger recorders (``adapters.config``
names their factory in PERSISTENCE_MODULE); checked here once, so that no caller needs a cast
and mypy checks that both recorders are a ``LedgerStore``.
"""

from __future__ import annotations

from eventsourcing.persistence import ProgrammingError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from adapters.persistence.postgres import LedgerPostgresApplicationRecorder
from adapters.persistence.sqlite import LedgerSQLiteApplicationRecorder
from domain.application import Bewijslast
from ledger.store import LedgerStore

LedgerRecorder = LedgerSQLiteApplicationRecorder | LedgerPostgresApplicationRecorder


def recorder_of(app: Bewijslast) -> LedgerRecorder:
    recorder = app.recorder
    if not isinstance(recorder, LedgerRecorder):
        raise ProgrammingError(
            f"{type(recorder).__name__} keeps no ledger: PERSISTENCE_MODULE must name a factory "
            "of adapters.persistence"
        )
    return recorder


def ledger_of(app: Bewijslast) -> LedgerStore:
    """The application's ledger."""
    return recorder_of(app)


def datastore_of(app: Bewijslast) -> SQLiteDatastore | PostgresDatastore:
    """The application's datastore, for the adapters' own tables beside the ledger."""
    datastore = recorder_of(app).datastore
    if not isinstance(datastore, SQLiteDatastore | PostgresDatastore):
        raise ProgrammingError(f"{type(datastore).__name__} is not a datastore of this package")
    return datastore
