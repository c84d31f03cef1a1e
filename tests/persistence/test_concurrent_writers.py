"""Several OS processes writing at once always make one linear, verifiable ledger."""

from __future__ import annotations

import multiprocessing
import uuid

import pytest
from eventsourcing.persistence import StoredEvent

from tests.persistence.stores import postgres_recorder, sqlite_recorder, verify_store

pytestmark = pytest.mark.long

PROCESSES = 4
SAVES = 40


def _write(kind: str, target, seed: int) -> int:
    recorder = postgres_recorder(target) if kind == "postgres" else sqlite_recorder(target)
    stream = uuid.uuid4()
    for version in range(1, SAVES + 1):
        events = [
            StoredEvent(stream, version * 2 - 1, "t:A", f"{seed}:{version}".encode()),
            StoredEvent(stream, version * 2, "t:B", b"second event of the save"),
        ]
        recorder.insert_events(events)
    return SAVES


@pytest.mark.parametrize("kind", ["postgres", "sqlite"])
def test_concurrent_processes_make_one_verifiable_ledger(kind, request):
    if kind == "postgres":
        target = request.getfixturevalue("pg_database")
        recorder = postgres_recorder(target)
    else:
        target = str(request.getfixturevalue("sqlite_path"))
        recorder = sqlite_recorder(target)
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        done = pool.starmap(_write, [(kind, target, seed) for seed in range(PROCESSES)])
    assert sum(done) == PROCESSES * SAVES
    report = verify_store(recorder)
    assert report.ok, [str(f) for f in report.failures]
    assert report.entries == PROCESSES * SAVES * 2
    ids = [n.id for n in recorder.select_notifications(None, 10_000)]
    assert ids == list(range(1, PROCESSES * SAVES * 2 + 1))
