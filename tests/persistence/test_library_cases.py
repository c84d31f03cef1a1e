"""The eventsourcing library's own recorder test cases, run against the ledger recorders.

After each case the stored ledger is verified as a whole: whatever the library's tests do
(concurrent writers, conflicts, tracking), the result is one linear, valid ledger.
"""

from __future__ import annotations

import pytest
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
    ProcessRecorderTestCase,
)

from tests.persistence.stores import postgres_recorder, sqlite_recorder, verify_store


class _VerifiedAfterwards:
    recorders: list

    @pytest.fixture(autouse=True)
    def _verify_ledger_afterwards(self):
        self.recorders = []
        yield
        for recorder in self.recorders:
            report = verify_store(recorder)
            assert report.ok, [str(f) for f in report.failures]

    def keep(self, recorder):
        self.recorders.append(recorder)
        return recorder


class _OnPostgres(_VerifiedAfterwards):
    @pytest.fixture(autouse=True)
    def _database(self, pg_database):
        self.db = pg_database

    def create_recorder(self):
        return self.keep(postgres_recorder(self.db, process=self.process))


class _OnSQLite(_VerifiedAfterwards):
    @pytest.fixture(autouse=True)
    def _database(self, sqlite_path):
        self.path = str(sqlite_path)

    def create_recorder(self):
        return self.keep(sqlite_recorder(self.path, process=self.process))


class TestPostgresApplicationRecorder(_OnPostgres, ApplicationRecorderTestCase):
    process = False


class TestPostgresProcessRecorder(_OnPostgres, ProcessRecorderTestCase):
    process = True


class TestPostgresNonInterleaving(_OnPostgres, NonInterleavingNotificationIDsBaseCase):
    process = False


class TestSQLiteApplicationRecorder(_OnSQLite, ApplicationRecorderTestCase):
    process = False


class TestSQLiteProcessRecorder(_OnSQLite, ProcessRecorderTestCase):
    process = True


class TestSQLiteNonInterleaving(_OnSQLite, NonInterleavingNotificationIDsBaseCase):
    process = False
