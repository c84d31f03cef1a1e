"""``bewijslast serve`` under 20 clients while a fault strikes, on both databases: serve killed
(-9), PostgreSQL stopped and started again, SQLite's disk full. After each: nothing that was
acknowledged is lost, nothing recorded was answered as a failure (only 503 / 507 with
Retry-After while the fault lasts), every client's retry with its idempotency key is answered
with one record (the same id when it had been acknowledged), and ``verify`` exits 0."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.bootstrap import open_application
from tests.faults.load import Load
from tests.faults.postgres import Server
from tests.test_serve import Operator, api_key, make_operator, serving

pytestmark = pytest.mark.long

CLIENTS = 20


@pytest.fixture(params=["sqlite", "postgres"])
def operator(request, tmp_path) -> Operator:
    operator = make_operator(tmp_path)
    if request.param == "postgres":
        database = request.getfixturevalue("pg_database")
        operator.env["BEWIJSLAST_DATABASE_URL"] = database.url
    return operator


def recorded_once_each(operator: Operator, load: Load, before: dict[str, str]) -> None:
    """Every key answered 201 now; an acknowledged key with its first id; one entry per key."""
    answers = load.retry_all()
    assert {key: answers[key] for key in before} == before  # nothing acknowledged is lost
    app = open_application(operator.settings)
    recorder = app.recorder
    streams = [r.entry.stream for r in recorder.records(0, recorder.ledger_size() - 1)]
    assert sorted(streams) == sorted(answers.values())  # no duplicate, none missing
    app.close()
    verified = operator.run(
        "verify",
        "--database",
        operator.env["BEWIJSLAST_DATABASE_URL"],
        "--vkey",
        str(operator.vkey),
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_serve_killed_mid_load(operator):
    headers = api_key(operator, "EMPLOYEE:Leusden")
    with serving(operator) as served:
        load = Load(served.url, headers)
        load.start(CLIENTS)
        load.wait_for(acknowledged=60, seconds=60)
        served.process.send_signal(signal.SIGKILL)
        served.process.wait()
        load.stop()
    # Before the kill, 20 clients were answered without a single server error (SQLite's reads
    # do not queue for its writer).
    assert [a for a in load.refused if a.status >= 500] == []
    assert len(load.acknowledged) >= 60
    before = dict(load.acknowledged)
    with serving(operator) as served:
        load.url = served.url
        recorded_once_each(operator, load, before)
        assert served.stop(signal.SIGTERM) == 0, served.output()


def test_postgresql_stopped_and_started_under_load(tmp_path):
    server = Server()
    try:
        operator = make_operator(tmp_path)
        operator.env["BEWIJSLAST_DATABASE_URL"] = server.url
        headers = api_key(operator, "EMPLOYEE:Leusden")
        with serving(operator) as served:
            load = Load(served.url, headers)
            load.start(CLIENTS)
            load.wait_for(acknowledged=40, seconds=60)
            server.stop("immediate")
            ready = served.http.get("/health/ready", timeout=30)
            assert ready.status_code == 503
            assert ready.headers["Retry-After"] == "5"
            assert ready.json()["status"] == "failing"
            assert served.http.get("/health", timeout=30).json()["status"] == "failing"
            time.sleep(2)
            server.start()
            load.wait_for(acknowledged=len(load.acknowledged) + 40, seconds=60)
            load.stop()
            outage = [a for a in load.refused if a.status != 201]
            assert outage, "the outage was not noticed"
            assert {a.status for a in outage} == {503}
            assert all(a.retry_after == "5" for a in outage)
            # Well under the library's 30 s pool wait (2 s per attempt; load adds some).
            assert max(a.seconds for a in outage) < 20
            before = dict(load.acknowledged)
            recorded_once_each(operator, load, before)
            assert served.stop(signal.SIGTERM) == 0, served.output()
    finally:
        server.remove()


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def test_sqlite_on_a_full_disk(tmp_path, small_disk):
    operator = make_operator(tmp_path)
    operator.env["BEWIJSLAST_DATABASE_URL"] = f"sqlite:///{small_disk / 'bewijslast.db'}"
    headers = api_key(operator, "EMPLOYEE:Leusden")
    filler = small_disk / "filler"
    with serving(operator, "--no-projections") as served:
        load = Load(served.url, headers)
        load.start(CLIENTS)
        load.wait_for(acknowledged=40, seconds=60)
        # suppress outermost: closing the file flushes into the full disk too
        with contextlib.suppress(OSError), filler.open("wb") as file:
            while True:  # until the disk is full
                file.write(b"\0" * 65536)
                file.flush()
        deadline = time.monotonic() + 30
        while not any(a.status == 507 for a in load.refused) and time.monotonic() < deadline:
            time.sleep(0.1)
        load.stop()
        full = [a for a in load.refused if a.status != 201]
        assert full, "the full disk was not noticed"
        assert {a.status for a in full} <= {503, 507}
        assert any(a.status == 507 and a.retry_after == "60" for a in full)
        health = served.process.poll()
        assert health is None  # serve runs on
        filler.unlink()
        before = dict(load.acknowledged)
        recorded_once_each(operator, load, before)
        assert served.stop(signal.SIGTERM) == 0, served.output()
