"""Entry bytes are exactly the v1 prefix and the RFC 8785 (JCS) form of the entry object."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.entry import (
    ENTRY_PREFIX,
    ChainHead,
    Entry,
    NewEvent,
    chain_hash,
    extend_chain,
    format_recorded_at,
    leaf_hash,
)
from ledger.errors import MalformedInput


def jcs(obj: dict) -> bytes:
    """RFC 8785 for keys, strings, integers and null (no floats occur in entries)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


EXAMPLE = Entry(
    index=7,
    stream="3277e5b2-c011-4df0-8d47-4cb93a06e156",
    stream_seq=2,
    stream_prev="ab" * 32,
    topic="domain.incidents:Incident.BreachEstablished",
    state_sha256="cd" * 32,
    recorded_at="2026-11-23T09:30:00.123456Z",
)


def test_the_bytes_of_an_example_entry_written_out():
    assert EXAMPLE.to_bytes() == (
        b"bewijslast/entry/v1\n"
        b'{"index":7,"recorded_at":"2026-11-23T09:30:00.123456Z",'
        b'"state_sha256":"' + b"cd" * 32 + b'","stream":"3277e5b2-c011-4df0-8d47-4cb93a06e156",'
        b'"stream_prev":"' + b"ab" * 32 + b'","stream_seq":2,'
        b'"topic":"domain.incidents:Incident.BreachEstablished","v":1}'
    )
    assert EXAMPLE.leaf_hash() == hashlib.sha256(b"\x00" + EXAMPLE.to_bytes()).digest()
    assert leaf_hash(EXAMPLE.to_bytes()) == EXAMPLE.leaf_hash()
    assert (
        chain_hash(bytes(32), EXAMPLE.leaf_hash())
        == hashlib.sha256(bytes(32) + EXAMPLE.leaf_hash()).digest()
    )


entries = st.builds(
    Entry,
    index=st.integers(0, 2**62),
    stream=st.uuids().map(str),
    stream_seq=st.integers(0, 2**62),
    stream_prev=st.one_of(st.none(), st.binary(min_size=32, max_size=32).map(bytes.hex)),
    topic=st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
    state_sha256=st.binary(min_size=32, max_size=32).map(bytes.hex),
    recorded_at=st.datetimes(timezones=st.just(UTC)).map(format_recorded_at),
)


@settings(max_examples=300, deadline=None)
@given(entries)
def test_entry_bytes_are_jcs_of_the_entry_object_for_any_entry(entry):
    assert entry.to_bytes() == ENTRY_PREFIX + jcs(entry.to_object())
    assert Entry.from_bytes(entry.to_bytes()) == entry


@pytest.mark.parametrize(
    "change",
    [
        {"extra": 1},
        {"index": True},
        {"index": -1},
        {"stream_seq": "2"},
        {"v": 2},
        {"stream": str(uuid.uuid4()).upper()},
        {"stream": "not-a-uuid"},
        {"state_sha256": "CD" * 32},
        {"stream_prev": "ab" * 31},
        {"recorded_at": "2026-11-23T09:30:00Z"},
        {"recorded_at": "2026-11-23T09:30:00.123456Z\n"},
        {"topic": 5},
    ],
)
def test_entry_objects_out_of_format_are_refused(change):
    obj = {**EXAMPLE.to_object(), **change}
    with pytest.raises(MalformedInput):
        Entry.from_object(obj)


def test_a_missing_member_is_refused():
    obj = EXAMPLE.to_object()
    del obj["stream_prev"]
    with pytest.raises(MalformedInput):
        Entry.from_object(obj)


def test_non_canonical_entry_bytes_are_refused():
    spaced = ENTRY_PREFIX + json.dumps(EXAMPLE.to_object(), sort_keys=True).encode()
    unsorted = ENTRY_PREFIX + json.dumps(EXAMPLE.to_object(), separators=(",", ":")).encode()
    for data in (spaced, unsorted, b"bewijslast/entry/v2\n" + jcs(EXAMPLE.to_object())):
        with pytest.raises(MalformedInput):
            Entry.from_bytes(data)


events = st.builds(
    NewEvent,
    stream=st.sampled_from([str(uuid.UUID(int=n)) for n in range(3)]),
    stream_seq=st.integers(0, 2**62),
    topic=st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
    state=st.binary(max_size=100),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(events, min_size=1, max_size=8), st.datetimes(timezones=st.just(UTC)))
def test_an_append_hashes_the_bytes_of_the_entries_it_links(new_events, now):
    """Appends render the head-free members before the lock (``PendingEntry``): the leaves
    they hash are still the JCS bytes of the entries, linked in the chain and per stream."""
    head = ChainHead(5, bytes(range(32)), None)
    links = extend_chain(head, new_events, now, {new_events[0].stream: b"\x07" * 32})
    previous, latest = head.chain_hash, {new_events[0].stream: (b"\x07" * 32).hex()}
    for link, event in zip(links, new_events, strict=True):
        entry = link.entry
        assert entry.to_bytes() == ENTRY_PREFIX + jcs(entry.to_object())
        assert link.leaf_hash == leaf_hash(entry.to_bytes())
        assert link.chain_hash == chain_hash(previous, link.leaf_hash)
        assert entry.stream_prev == latest.get(event.stream)
        assert entry.state_sha256 == hashlib.sha256(event.state).hexdigest()
        previous, latest[event.stream] = link.chain_hash, link.leaf_hash.hex()
