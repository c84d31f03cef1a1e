"""Fixtures for tests against the real PostgreSQL server that scripts/test-all starts."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql


@dataclass(frozen=True)
class PgDatabase:
    name: str
    url: str
    host: str
    port: int
    user: str


@contextmanager
def fresh_pg_database(server_url: str) -> Iterator[PgDatabase]:
    """Creates an empty database on the server of `server_url` (a superuser URL), drops it after."""
    parts = urlsplit(server_url)
    user = parts.username or "postgres"
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield PgDatabase(name, f"postgresql://{user}@{host}:{port}/{name}", host, port, user)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            # Connections a test left open (pools, threads) would block the DROP.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get("BEWIJSLAST_TEST_PG_URL")
    if not url:
        pytest.fail(
            "BEWIJSLAST_TEST_PG_URL is not set: run the tests with scripts/test-all,"
            " which starts a PostgreSQL server for them"
        )
    return url


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[PgDatabase]:
    """A fresh, empty database on the test server, dropped afterwards."""
    with fresh_pg_database(pg_url) as database:
        yield database


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A path for a fresh SQLite database file (not created yet)."""
    return tmp_path / "bewijslast.db"


@pytest.fixture(autouse=True)
def no_configuration_file_left_in_the_checkout():
    """Commands read bewijslast.toml from the folder they run in: a test that ran the demo or
    init in the checkout would configure every test after it."""
    checkout = Path(__file__).resolve().parents[1] / "bewijslast.toml"
    yield
    assert not checkout.exists(), f"a test wrote {checkout}: run it in a folder of its own"
