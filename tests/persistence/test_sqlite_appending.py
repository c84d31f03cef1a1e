"""SQLite appends write on a connection of their own, kept by the datastore's pool
(adapters/persistence/sqlite.py, ``_LedgerPool``): one at a time per process, closed with the
pool, and through the pool itself for an in-memory database, whose readers and writers must
exclude each other."""

from __future__ import annotations

import threading
import uuid

import pytest
from eventsourcing.persistence import ConnectionPoolClosedError, IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteDatastore

from adapters.persistence.appending import pending_entries
from adapters.persistence.sqlite import LedgerSQLiteApplicationRecorder
from tests.persistence.stores import sqlite_recorder, verify_store


def events(stream: uuid.UUID, first: int, count: int) -> list[StoredEvent]:
    return [
        StoredEvent(stream, version, "domain:Saved", f"{stream} {version}".encode())
        for version in range(first, first + count)
    ]


def test_threads_of_one_process_append_one_at_a_time(sqlite_path):
    recorder = sqlite_recorder(str(sqlite_path))
    ids: list[list[int]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def writer() -> None:
        stream = uuid.uuid4()
        start.wait()
        try:
            for first in range(1, 60, 3):
                ids.append(list(recorder.insert_events(events(stream, first, 3))))
        except BaseException as e:  # reported below, not lost in the thread
            failures.append(e)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    # Every append got the notification ids of its own entries, none shared, none skipped.
    assert sorted(i for append in ids for i in append) == list(range(1, 8 * 60 + 1))
    assert all(append == list(range(append[0], append[0] + 3)) for append in ids)
    report = verify_store(recorder)
    assert report.ok, [str(f) for f in report.failures]
    assert report.entries == 8 * 60


def test_a_refused_append_leaves_the_connection_fit_for_the_next(sqlite_path):
    recorder = sqlite_recorder(str(sqlite_path))
    stream = uuid.uuid4()
    recorder.insert_events(events(stream, 1, 2))
    with pytest.raises(IntegrityError):  # version 2 exists: rolled back, not left open
        recorder.insert_events(events(stream, 2, 1))
    assert recorder.insert_events(events(stream, 3, 2)) == [3, 4]
    assert verify_store(recorder).ok


def append_then(
    recorder: LedgerSQLiteApplicationRecorder, batch: list[StoredEvent], statement: str | None
) -> None:
    """Append ``batch`` in a transaction that then runs ``statement``, or fails (None)."""
    with recorder._pool.appending() as cursor:
        recorder._insert_events(cursor, batch, pending=pending_entries(batch))
        if statement is None:
            raise LookupError("not a database error")
        cursor.execute(statement)


def test_a_commit_that_fails_is_rolled_back_and_raised_as_the_librarys_error(sqlite_path):
    recorder = sqlite_recorder(str(sqlite_path))
    recorder.insert_events(events(uuid.uuid4(), 1, 1))
    # A deferred foreign key is checked at COMMIT: the one way to make a commit fail here.
    appender = recorder._pool._appender
    assert appender is not None
    connection = appender._cursor.connection
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY)")
    connection.execute(
        "CREATE TEMP TABLE child (parent INTEGER REFERENCES parent (id) "
        "DEFERRABLE INITIALLY DEFERRED)"
    )
    stream = uuid.uuid4()
    with pytest.raises(IntegrityError):
        append_then(recorder, events(stream, 1, 2), "INSERT INTO temp.child VALUES (7)")
    assert connection.execute("SELECT COUNT(*) FROM temp.child").fetchone()[0] == 0
    assert recorder.insert_events(events(stream, 1, 2)) == [2, 3]  # nothing half-written
    assert verify_store(recorder).ok


def test_a_failure_in_the_append_is_raised_as_it_is_and_releases_the_connection(sqlite_path):
    recorder = sqlite_recorder(str(sqlite_path))
    stream = uuid.uuid4()
    with pytest.raises(LookupError, match="not a database error"):
        append_then(recorder, events(stream, 1, 1), None)
    done = threading.Event()  # another thread can append: the connection was given back
    worker = threading.Thread(
        target=lambda: (recorder.insert_events(events(stream, 1, 1)), done.set())
    )
    worker.start()
    worker.join(timeout=10)
    assert done.is_set()
    assert verify_store(recorder).entries == 1


def test_the_append_connection_is_closed_with_the_pool(sqlite_path):
    recorder = sqlite_recorder(str(sqlite_path))
    recorder.insert_events(events(uuid.uuid4(), 1, 1))
    kept = recorder._pool._appender
    assert kept is not None
    recorder.datastore.close()
    assert kept.closed
    assert kept._connection.closed  # the database connection itself, not only the flag
    with pytest.raises(ConnectionPoolClosedError):
        recorder.insert_events(events(uuid.uuid4(), 1, 1))


def test_an_in_memory_ledger_appends_through_the_pool():
    recorder = sqlite_recorder(f"file:{uuid.uuid4().hex}?mode=memory&cache=shared")
    stream = uuid.uuid4()
    for first in range(1, 40, 4):
        recorder.insert_events(events(stream, first, 4))
    with recorder._pool.appending():
        # On a connection the pool hands out: none is kept apart.
        assert recorder._pool.num_in_use == 1
        assert recorder._pool._appender is None
    report = verify_store(recorder)
    assert report.ok, [str(f) for f in report.failures]
    assert report.entries == 40


def test_the_append_connection_outlives_the_pools_max_age(sqlite_path):
    """The library closes a pool connection past ``max_age`` once it is returned; the append
    connection is never returned, so it is opened without that timer and kept."""
    datastore = SQLiteDatastore(str(sqlite_path), lock_timeout=30, max_age=0.05)
    recorder = LedgerSQLiteApplicationRecorder(datastore)
    recorder.create_table()
    stream = uuid.uuid4()
    recorder.insert_events(events(stream, 1, 1))
    kept = recorder._pool._appender
    timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    for timer in timers:  # past max_age: each closes its connection once that is returned
        timer.join(timeout=5)
    assert not any(t.is_alive() for t in timers)  # none left waiting for the append connection
    recorder.insert_events(events(stream, 2, 1))
    assert recorder._pool._appender is kept
    assert not kept.closed
    assert verify_store(recorder).ok


def test_an_appender_handed_out_before_the_pool_closed_refuses_to_append(sqlite_path):
    recorder = sqlite_recorder(str(sqlite_path))
    recorder.insert_events(events(uuid.uuid4(), 1, 1))
    appending = recorder._pool.appending()  # taken by a thread, which then waits
    recorder.datastore.close()
    with pytest.raises(ConnectionPoolClosedError), appending:
        pass
