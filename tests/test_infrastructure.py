"""The test infrastructure itself: pg_database is a fresh, empty database on a real server
(made anew, or one a test gave back, emptied)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from tests.conftest import LEFTOVERS, PgDatabase, fresh_pg_database

USER_RELATIONS = """
    SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""


def database_exists(server_url: str, name: str) -> bool:
    with psycopg.connect(server_url) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def test_pg_database_is_an_empty_database_on_a_real_server(pg_database: PgDatabase) -> None:
    assert pg_database.host == "127.0.0.1"
    with psycopg.connect(pg_database.url) as conn:
        row = conn.execute(
            f"SELECT version(), current_database(), host(inet_server_addr()),"
            f" current_setting('listen_addresses'), ({USER_RELATIONS})"
        ).fetchone()
        assert row is not None
        version, database, server_addr, listen, user_relations = row
        conn.execute("CREATE TABLE t (x int)")  # and it is writable
    assert "PostgreSQL" in version
    assert database == pg_database.name
    assert server_addr == "127.0.0.1"
    assert listen == "127.0.0.1"
    assert user_relations == 0


def test_each_pg_database_is_a_different_database(pg_url: str, pg_database: PgDatabase) -> None:
    with fresh_pg_database(pg_url) as other:
        assert other.name != pg_database.name
        with psycopg.connect(pg_database.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE only_in_the_first (x int)")
        with psycopg.connect(other.url) as conn:
            assert conn.execute(USER_RELATIONS).fetchone() == (0,)


def leftovers(database: PgDatabase) -> list[str]:
    with psycopg.connect(database.url) as conn:
        return [what for (what,) in conn.execute(LEFTOVERS).fetchall()]


def test_a_database_given_back_is_taken_again_as_empty_as_a_new_one(pg_url: str) -> None:
    with fresh_pg_database(pg_url) as first:
        assert leftovers(first) == []  # what the check takes for fresh is what initdb makes
        with psycopg.connect(first.url, autocommit=True) as conn:
            conn.execute("CREATE SCHEMA ledger")
            conn.execute("CREATE TABLE ledger.entries (x int PRIMARY KEY)")
            conn.execute("CREATE TYPE public.mood AS ENUM ('ok')")
            conn.execute("CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
            conn.execute("CREATE TABLE public.t (m public.mood)")
            conn.execute("REVOKE USAGE ON SCHEMA public FROM PUBLIC")
        # A connection left open, as a pool may leave one: ended, not left to write on.
        left_open = psycopg.connect(first.url, autocommit=True)
    with fresh_pg_database(pg_url) as again:
        assert again.name == first.name  # emptied, not made anew
        assert leftovers(again) == []
    with pytest.raises(psycopg.OperationalError):
        left_open.execute("SELECT 1")
    left_open.close()


@pytest.mark.parametrize(
    "change",
    [
        "GRANT CREATE ON DATABASE {} TO PUBLIC",
        "ALTER DATABASE {} SET work_mem = '8MB'",
    ],
)
def test_a_database_changed_beyond_its_schemas_is_dropped_not_taken_again(
    pg_url: str, change: str
) -> None:
    with fresh_pg_database(pg_url) as changed, psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL(change).format(sql.Identifier(changed.name)))
    assert not database_exists(pg_url, changed.name)
    with fresh_pg_database(pg_url) as next_one:
        assert next_one.name != changed.name
        assert leftovers(next_one) == []
