"""The test infrastructure itself: pg_database is a fresh, empty database on a real server."""

from __future__ import annotations

import psycopg

from tests.conftest import PgDatabase, fresh_pg_database

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
        # A connection left open must not keep the database from being dropped.
        left_open = psycopg.connect(other.url)
    try:
        assert not database_exists(pg_url, other.name)
        assert database_exists(pg_url, pg_database.name)
    finally:
        left_open.close()
