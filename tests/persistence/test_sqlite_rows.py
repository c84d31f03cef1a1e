"""The SQLite recorder binds an entry's hashes as ``bytearray`` (``adapters.persistence.sqlite.
blob``, cheaper for sqlite3 than ``bytes``): they must still be stored as the 32-byte BLOBs
that readers, older releases and the export read."""

from __future__ import annotations

import sqlite3
import uuid

from eventsourcing.persistence import StoredEvent

from adapters.persistence.sqlite import EVENTS_PER_INSERT, STATE_COPIED
from tests.persistence.stores import sqlite_recorder, verify_store


def test_every_hash_is_stored_as_a_blob_of_32_bytes(sqlite_path):
    recorder = sqlite_recorder(str(sqlite_path))
    stream = uuid.uuid4()
    for first in range(1, 21, 5):  # 20 entries: the subtree of the first 16 is stored
        recorder.insert_events(
            [StoredEvent(stream, v, "t:Saved", f"{v}".encode()) for v in range(first, first + 5)]
        )
    report = verify_store(recorder)
    assert report.ok, [str(f) for f in report.failures]
    records = list(recorder.records(0, 19))
    with sqlite3.connect(sqlite_path) as db:
        rows = db.execute(
            "SELECT typeof(leaf_hash), leaf_hash, typeof(chain_hash), chain_hash, "
            "typeof(stream_prev), stream_prev, typeof(state_sha256), length(state_sha256) "
            "FROM stored_events ORDER BY rowid"
        ).fetchall()
        nodes = db.execute("SELECT level, idx, typeof(hash), length(hash) FROM ledger_nodes")
        assert nodes.fetchall() == [(4, 0, "blob", 32)]
    assert len(rows) == 20
    for row, record, previous in zip(rows, records, [None, *records], strict=False):
        assert row[:4] == ("blob", record.leaf_hash, "blob", record.chain_hash)
        if previous is None:
            assert row[4:6] == ("null", None)
        else:
            assert row[4:6] == ("blob", previous.leaf_hash)
        assert row[6:] == ("blob", 32)


def test_an_append_longer_than_one_insert_takes_is_stored_whole_and_in_order(sqlite_path):
    """An append's rows go in INSERTs of at most ``EVENTS_PER_INSERT`` rows each: one longer
    than two of them is stored as one transaction, every entry in its place."""
    recorder = sqlite_recorder(str(sqlite_path))
    streams = [uuid.uuid4(), uuid.uuid4()]
    count = 2 * EVENTS_PER_INSERT + 5
    batch = [
        StoredEvent(streams[v % 2], v // 2 + 1, "t:Saved", f"{v}".encode()) for v in range(count)
    ]
    assert recorder.insert_events(batch) == list(range(1, count + 1))
    report = verify_store(recorder)
    assert report.ok, [str(f) for f in report.failures]
    assert report.entries == count
    with sqlite3.connect(sqlite_path) as db:
        rows = db.execute(
            "SELECT rowid, ledger_index, originator_id, originator_version, state "
            "FROM stored_events ORDER BY rowid"
        ).fetchall()
    assert rows == [
        (v + 1, v, streams[v % 2].hex, v // 2 + 1, f"{v}".encode()) for v in range(count)
    ]


def test_a_state_small_or_large_is_stored_as_the_blob_it_was(sqlite_path):
    """A state is bound as a copy (``bytearray``) up to ``STATE_COPIED`` bytes and as it is
    above: either way a BLOB that reads back as the same bytes."""
    recorder = sqlite_recorder(str(sqlite_path))
    states = [b"", b"small", bytes(range(256)) * (STATE_COPIED // 256 + 1)]
    assert len(states[-1]) > STATE_COPIED
    stream = uuid.uuid4()
    recorder.insert_events(
        [StoredEvent(stream, v, "t:Saved", state) for v, state in enumerate(states, 1)]
    )
    assert [r.state for r in recorder.records(0, 2)] == states
    with sqlite3.connect(sqlite_path) as db:
        rows = db.execute("SELECT typeof(state), state FROM stored_events ORDER BY rowid")
        assert rows.fetchall() == [("blob", state) for state in states]
    assert verify_store(recorder).ok
