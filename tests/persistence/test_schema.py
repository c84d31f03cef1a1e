"""The adapters' tables come to their present shape by versioned migrations, applied once, in
order, on both databases; a database made before versions were kept upgrades with its rows."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError
from eventsourcing.sqlite import SQLiteDatastore

from adapters.persistence.schema import (
    BUS_WITNESS,
    LEDGER,
    STORES,
    WITNESS_COSIGNED,
    ledger_names,
    migrate,
)
from adapters.persistence.sqldb import Cursor, Database
from tests.persistence.stores import (
    postgres_datastore,
    postgres_recorder,
    sqlite_recorder,
)

OLD_LEDGER = Path(__file__).parents[1] / "fixtures" / "ledger-a2de679" / "ledger.db"
APPLICATION_STORES = [s for s in STORES if s not in (LEDGER, WITNESS_COSIGNED, BUS_WITNESS)]


def versions(conn, table: str = "schema_versions") -> list[tuple[str, int]]:
    rows = conn.execute(f"SELECT store, version FROM {table} ORDER BY store, version")
    return [tuple(row) for row in rows.fetchall()]


def test_the_ledger_of_the_first_release_upgrades_on_sqlite_with_every_entry(tmp_path):
    path = tmp_path / "ledger.db"
    shutil.copy(OLD_LEDGER, path)
    recorder = sqlite_recorder(str(path))
    assert recorder.ledger_size() == 308
    assert len(list(recorder.records(0, 307))) == 308  # verified in test_first_version_ledger
    with sqlite3.connect(path) as conn:
        assert versions(conn) == [("ledger", 1), ("ledger", 2), ("ledger", 3)]
        made = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    # Made by the first migration where the first release had none, append-only too.
    assert {"ledger_cosignatures", "idempotency_keys"} <= made
    assert {"ledger_cosignatures_no_delete", "idempotency_keys_no_update"} <= made


def test_a_postgres_ledger_from_before_versions_keeps_its_checkpoints_under_the_one_name(
    pg_database,
):
    datastore = postgres_datastore(pg_database)
    names = ledger_names(datastore.schema, "bewijslast_events")
    first_release = dataclasses.replace(LEDGER, migrations=LEDGER.migrations[:1])
    with datastore.transaction(commit=True) as curs:
        migrate(first_release, Cursor(curs, postgres=True), names)
        curs.execute("DROP TABLE bewijslast_schema_versions")  # none were kept then
        curs.execute("INSERT INTO bewijslast_checkpoints VALUES (0, '\\x00', 'signed note', now())")
    recorder = postgres_recorder(pg_database)  # applies the migrations
    recorder.store_cosignature(0, "witness", "— witness line\n", recorder.clock())
    assert recorder.signed_checkpoints() == ["signed note— witness line\n"]
    recorder.create_table()  # nothing left to apply
    with psycopg.connect(pg_database.url, autocommit=True) as conn:
        assert versions(conn, "bewijslast_schema_versions") == [
            ("ledger", 1),
            ("ledger", 2),
            ("ledger", 3),
        ]
        for table in ("checkpoints", "cosignatures"):
            assert conn.execute(f"SELECT to_regclass('bewijslast_{table}')").fetchone() == (None,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("DELETE FROM bewijslast_ledger_checkpoints")


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path) -> Database:
    if request.param == "sqlite":
        return Database(SQLiteDatastore(str(tmp_path / "app.db"), lock_timeout=30))
    return Database(postgres_datastore(request.getfixturevalue("pg_database")))


def test_every_application_store_migrates_once_on_both_databases(database):
    with database.transaction() as cursor:
        first = [migrate(store, cursor) for store in APPLICATION_STORES]
    with database.transaction() as cursor:
        again = [migrate(store, cursor) for store in APPLICATION_STORES]
    assert first == [[m.version for m in s.migrations] for s in APPLICATION_STORES]
    assert again == [[]] * len(APPLICATION_STORES)
    with database.reading() as cursor:
        cursor.execute("SELECT store, MAX(version) FROM schema_versions GROUP BY store")
        latest = {row[0]: row[1] for row in cursor.fetchall()}
    assert latest == {s.name: s.migrations[-1].version for s in APPLICATION_STORES}


def test_a_migration_that_fails_records_no_version(database):
    store = APPLICATION_STORES[0]
    broken = dataclasses.replace(store.migrations[0], sqlite=("NOT SQL",), postgres=None)
    with pytest.raises(PersistenceError), database.transaction() as cursor:
        migrate(dataclasses.replace(store, migrations=(broken,)), cursor)
    with database.transaction() as cursor:
        assert migrate(store, cursor) == [1]
