"""Fixtures for tests against the real PostgreSQL server that scripts/test-all starts."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest


@dataclass(frozen=True)
class PgDatabase:
    name: str
    url: str
    host: str
    port: int
    user: str


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get("BEWIJSLAST_TEST_PG_URL")
    if not url:
        pytest.fail("no PostgreSQL server: run the tests with scripts/test-all, which starts one")
    return url


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[PgDatabase]:
    """A fresh, empty database on the test server, dropped afterwards."""
    parts = urlsplit(pg_url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    user = parts.username or "postgres"
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    yield PgDatabase(name, f"postgresql://{user}@{host}:{port}/{name}", host, port, user)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "bewijslast.db"
