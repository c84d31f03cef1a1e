"""SQLite keeps the heads of its last append in memory (adapters/persistence/recorder.py,
``ClientSideAppend``, an ``appending.Edge``): the only writer reads nothing but the chain
head before it inserts, and a writer that another one overtook, or whose append was rolled
back after it was remembered, reads the heads again and still links every entry to the
right one."""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking

from adapters.persistence.appending import STREAMS_KEPT
from ledger.merkle import MemoryTree, frontier_keys, range_nodes
from tests.persistence.stores import sqlite_recorder, verify_store


def save(recorder, stream, first, count=1, topic="domain:Saved"):
    return recorder.insert_events(
        [
            StoredEvent(stream, version, topic, f"{stream} {version}".encode())
            for version in range(first, first + count)
        ]
    )


def linked_and_verified(recorder) -> list:
    """The ledger verifies, each entry names its stream's previous leaf, and every subtree
    the store keeps or computes is the one the leaves make."""
    report = verify_store(recorder)
    assert report.ok, [str(f) for f in report.failures]
    records = list(recorder.records(0, recorder.ledger_size() - 1))
    last_leaf = {}
    for record in records:
        previous = last_leaf.get(record.entry.stream)
        assert record.entry.stream_prev == (None if previous is None else previous.hex())
        last_leaf[record.entry.stream] = record.leaf_hash
    tree = MemoryTree(r.leaf_hash for r in records)
    keys = {key for size in range(1, len(records) + 1) for key in frontier_keys(size)}
    keys |= set(range_nodes(0, len(records)))
    assert recorder.read_nodes(keys) == tree.read_nodes(keys)
    return records


def test_a_writer_overtaken_by_another_reads_the_heads_again(sqlite_path):
    ours, theirs = sqlite_recorder(str(sqlite_path)), sqlite_recorder(str(sqlite_path))
    case, other = uuid.uuid4(), uuid.uuid4()
    version = 1
    # Turns of uneven length, so that each writer's remembered tree edge is stale when
    # stored subtrees (every fourth level: 16, 32, ... leaves) are completed by the other.
    for turn, count in enumerate([3, 1, 5, 2, 7, 1, 1, 4, 9, 2, 6, 3]):
        writer = ours if turn % 2 == 0 else theirs
        save(writer, case, version, count)
        version += count
        save(writer, other, turn + 1)
    records = linked_and_verified(ours)
    assert len(records) == version - 1 + 12


def test_an_append_rolled_back_after_it_was_remembered_is_not_trusted(sqlite_path):
    recorder = sqlite_recorder(str(sqlite_path), process=True)
    stream = uuid.uuid4()
    recorder.insert_events([StoredEvent(stream, 1, "t:A", b"1")], tracking=Tracking("up", 5))
    # The tracking row is refused after the entries were computed, inserted and remembered.
    with pytest.raises(IntegrityError):
        recorder.insert_events([StoredEvent(stream, 2, "t:A", b"2")], tracking=Tracking("up", 5))
    recorder.insert_events([StoredEvent(stream, 2, "t:A", b"2'")], tracking=Tracking("up", 6))
    records = linked_and_verified(recorder)
    assert [r.state for r in records] == [b"1", b"2'"]


def test_a_failed_append_leaves_nothing_remembered(sqlite_path):
    ours, theirs = sqlite_recorder(str(sqlite_path)), sqlite_recorder(str(sqlite_path))
    stream = uuid.uuid4()
    save(ours, stream, 1, 2)
    with pytest.raises(IntegrityError):  # version 2 exists
        save(ours, stream, 2)
    save(theirs, stream, 3)
    save(ours, stream, 4)
    assert len(linked_and_verified(ours)) == 4


def test_the_only_writer_reads_the_chain_head_and_nothing_else(sqlite_path):
    recorder = sqlite_recorder(str(sqlite_path))
    stream = uuid.uuid4()
    save(recorder, stream, 1)  # the first append reads the stream's head and the tree's edge
    statements: list[str] = []
    with recorder._pool.appending() as cursor:  # on the connection appends write on
        cursor.connection.set_trace_callback(statements.append)
    for version in range(2, 40):
        save(recorder, stream, version)
    reads = [s for s in statements if s.startswith("SELECT")]
    assert len(reads) == 38
    assert all("ORDER BY rowid DESC LIMIT 1" in s for s in reads)
    # Subtrees of 16 and 32 leaves completed on the way, and they were stored.
    assert sum(s.startswith("INSERT INTO ledger_nodes") for s in statements) == 2
    linked_and_verified(recorder)


def test_a_writer_that_forgets_the_heads_of_many_streams_reads_them_again(sqlite_path):
    """More streams than a process keeps the heads of (``STREAMS_KEPT``): forgotten at the
    start of the append that finds too many, which then reads the heads of its own streams,
    so that each entry still names its stream's previous leaf."""
    recorder = sqlite_recorder(str(sqlite_path))
    streams = [uuid.uuid4() for _ in range(STREAMS_KEPT + 1)]
    for stream in streams:
        save(recorder, stream, 1)
    save(recorder, streams[0], 2, count=2)  # the append that forgets: its stream was kept
    save(recorder, streams[-1], 2)
    assert len(linked_and_verified(recorder)) == len(streams) + 3


def test_an_append_that_interleaves_streams_names_and_links_each_entry_by_its_own(sqlite_path):
    """``pending_entries`` names an event's stream once per run of one UUID object: streams
    that alternate, and a stream given as an equal UUID of another object, keep their names."""
    recorder = sqlite_recorder(str(sqlite_path))
    case, other = uuid.uuid4(), uuid.uuid4()
    same_case = uuid.UUID(str(case))
    events = [
        StoredEvent(stream, version, "t:Saved", f"{stream} {version}".encode())
        for stream, version in [(case, 1), (other, 1), (case, 2), (same_case, 3), (other, 2)]
    ]
    recorder.insert_events(events)
    records = linked_and_verified(recorder)
    assert [r.entry.stream for r in records] == [str(e.originator_id) for e in events]
    assert [e.originator_version for e in recorder.select_events(case)] == [1, 2, 3]
    assert [e.originator_version for e in recorder.select_events(other)] == [1, 2]
