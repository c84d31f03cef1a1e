"""Fixtures for tests against the real PostgreSQL server that scripts/test-all starts."""

from __future__ import annotations

import fcntl
import os
import shutil
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
    """An empty database on the server of `server_url` (a superuser URL), given back after."""
    parts = urlsplit(server_url)
    user = parts.username or "postgres"
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    name = _take_database(server_url)
    try:
        yield PgDatabase(name, f"postgresql://{user}@{host}:{port}/{name}", host, port, user)
    finally:
        _give_back(server_url, name)


# Databases given back empty, by server, for the next test of this process to take: CREATE
# DATABASE copies the template's ~7 MB through the WAL, ~170 ms of the server's CPU, and a
# test run asks for ~190. Emptying one costs a fraction of that.
_EMPTIED: dict[str, list[str]] = {}

_USER_SCHEMAS = """
    SELECT nspname FROM pg_namespace
     WHERE nspname NOT IN ('pg_catalog', 'information_schema')
       AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp_%'
"""
# What a test may have changed outside the database's schemas, which emptying them would not
# undo: a database with any of it is dropped instead.
_BEYOND_SCHEMAS = """
    SELECT 'privileges or owner' FROM pg_database
     WHERE datname = current_database()
       AND (datacl IS NOT NULL OR datdba <> current_user::regrole)
    UNION ALL SELECT 'settings' FROM pg_db_role_setting
     WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
    UNION ALL SELECT 'event trigger' FROM pg_event_trigger
    UNION ALL SELECT 'extension' FROM pg_extension WHERE extname <> 'plpgsql'
    UNION ALL SELECT 'large object' FROM pg_largeobject_metadata
    UNION ALL SELECT 'publication' FROM pg_publication
    UNION ALL SELECT 'default privileges' FROM pg_default_acl
"""
# Anything a fresh database does not hold: the above, sessions, schemas but public, objects.
LEFTOVERS = f"""
    {_BEYOND_SCHEMAS}
    UNION ALL SELECT 'session' FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()
    UNION ALL SELECT 'schema ' || nspname FROM ({_USER_SCHEMAS}) s WHERE nspname <> 'public'
    UNION ALL SELECT 'public schema owner or privileges' FROM pg_namespace
     WHERE nspname = 'public' AND (nspowner <> 'pg_database_owner'::regrole
       OR nspacl::text IS DISTINCT FROM
          '{{pg_database_owner=UC/pg_database_owner,=U/pg_database_owner}}')
    UNION ALL SELECT 'relation ' || relname FROM pg_class
     WHERE relnamespace = 'public'::regnamespace
    UNION ALL SELECT 'routine ' || proname FROM pg_proc
     WHERE pronamespace = 'public'::regnamespace
    UNION ALL SELECT 'type ' || typname FROM pg_type
     WHERE typnamespace = 'public'::regnamespace
"""


def _url(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def _take_database(server_url: str) -> str:
    emptied = _EMPTIED.setdefault(server_url, [])
    while emptied:
        name = emptied.pop()
        with psycopg.connect(_url(server_url, name), autocommit=True) as conn:
            fresh = conn.execute(LEFTOVERS).fetchone() is None
        if fresh:
            # The check's own session outlives its close for a moment: waited for, so that
            # the test finds none.
            _end_sessions(server_url, name)
            return name
        _drop(server_url, name)
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def _give_back(server_url: str, name: str) -> None:
    """Empties the database for the next test to take, or drops it when emptying would not
    leave it as a fresh one is."""
    _end_sessions(server_url, name)
    with psycopg.connect(_url(server_url, name), autocommit=True) as conn:
        if conn.execute(_BEYOND_SCHEMAS).fetchone() is not None:
            conn.close()
            _drop(server_url, name)
            return
        with conn.transaction():
            for (schema,) in conn.execute(_USER_SCHEMAS).fetchall():
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            # the public schema as initdb makes it
            conn.execute("CREATE SCHEMA public AUTHORIZATION pg_database_owner")
            conn.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
            conn.execute("COMMENT ON SCHEMA public IS 'standard public schema'")
    _EMPTIED[server_url].append(name)


def _end_sessions(server_url: str, name: str) -> None:
    """Connections a test left open (pools, threads) would hold locks, or write on."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid, 30000) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )


def _drop(server_url: str, name: str) -> None:
    _end_sessions(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def pytest_sessionfinish() -> None:
    """The emptied databases go when the run ends: the server may be one that outlives it."""
    for server_url, names in _EMPTIED.items():
        while names:
            _drop(server_url, names.pop())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first, in their order, then the others: on two workers (pytest -n) a long
    test begun last leaves the other worker idle until it ends; begun first, the others fill in
    beside it."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


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


# The shared demo's origin: the ledger of Bunschoten, the FG's first municipality.
DEMO_ORIGIN = "ledger.bunschoten.nl/bewijslast"
# What a test's environment may hold that would configure the demo otherwise.
SETTINGS = (
    "BEWIJSLAST_CONFIG",
    "BEWIJSLAST_DATABASE_URL",
    "BEWIJSLAST_ORIGIN",
    "BEWIJSLAST_SIGNING_KEY_FILE",
    "BEWIJSLAST_MASTER_KEY_FILE",
    "BEWIJSLAST_CHECKPOINT_STATE_FILE",
)


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder ``bewijslast demo`` leaves (bewijslast.toml, keys/, bewijslast.db), run once
    for the whole test run with BEWIJSLAST_ORIGIN set to Bunschoten's ledger: the first pytest
    worker to ask for it records it, under a lock, and the others wait for it. Never changed
    after: a test works on a copy of its own (``copy_demo``)."""
    from adapters.entrypoints.cli.main import main

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the folder that every worker's own one is in
    folder = root / "demo"
    with (root / "demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "recorded").exists():
            shutil.rmtree(folder, ignore_errors=True)  # a worker stopped half-way
            folder.mkdir()
            with pytest.MonkeyPatch.context() as env:
                for name in SETTINGS:
                    env.delenv(name, raising=False)
                env.setenv("BEWIJSLAST_ORIGIN", DEMO_ORIGIN)
                env.chdir(folder)
                assert main(["demo"]) == 0
            (folder / "recorded").touch()
    return folder


def copy_demo(demo_folder: Path, to: Path) -> Path:
    """A copy of the demo's folder at ``to``, for a test (or module) to change: its
    bewijslast.toml names its files relatively, so the copy is configured by itself. The
    database still names the demo folder's key files as those the data was recorded under."""
    shutil.copytree(demo_folder, to, symlinks=True, ignore=shutil.ignore_patterns("recorded"))
    return to


@pytest.fixture(autouse=True)
def no_configuration_file_left_in_the_checkout():
    """Commands read bewijslast.toml from the folder they run in: a test that ran the demo or
    init in the checkout would configure every test after it."""
    checkout = Path(__file__).resolve().parents[1] / "bewijslast.toml"
    yield
    assert not checkout.exists(), f"a test wrote {checkout}: run it in a folder of its own"
