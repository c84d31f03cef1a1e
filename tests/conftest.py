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
