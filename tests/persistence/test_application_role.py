"""The application's database role may read and append to the ledger, nothing more."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore

from adapters.persistence.postgres import (
    LedgerPostgresApplicationRecorder,
    grant_application_role,
)
from tests.persistence.stores import postgres_recorder, verify_store


@pytest.fixture
def app_role(pg_database):
    role = f"app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_database.url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
    owner = postgres_recorder(pg_database)
    grant_application_role(owner, role)
    yield role
    with psycopg.connect(pg_database.url, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


def app_recorder(db, role) -> LedgerPostgresApplicationRecorder:
    datastore = PostgresDatastore(
        dbname=db.name, host=db.host, port=str(db.port), user=role, password=""
    )
    return LedgerPostgresApplicationRecorder(datastore, events_table_name="bewijslast_events")


def test_the_application_role_appends_and_the_ledger_verifies(pg_database, app_role):
    recorder = app_recorder(pg_database, app_role)
    stream = uuid.uuid4()
    for version in range(1, 6):
        recorder.insert_events([StoredEvent(stream, version, "t:E", b"state")])
    report = verify_store(recorder)
    assert report.ok
    assert report.entries == 5


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE bewijslast_events SET topic = 'x'",
        "DELETE FROM bewijslast_events",
        "TRUNCATE bewijslast_events",
        "UPDATE bewijslast_ledger_nodes SET hash = ''",
        "DELETE FROM bewijslast_ledger_checkpoints",
    ],
)
def test_the_application_role_cannot_change_ledger_rows_even_without_triggers(
    pg_database, app_role, statement
):
    recorder = app_recorder(pg_database, app_role)
    recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "t:E", b"state")])
    with psycopg.connect(pg_database.url, autocommit=True) as conn:
        for table in (
            "bewijslast_events",
            "bewijslast_ledger_nodes",
            "bewijslast_ledger_checkpoints",
        ):
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    url = f"postgresql://{app_role}@{pg_database.host}:{pg_database.port}/{pg_database.name}"
    with (
        psycopg.connect(url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(statement)
