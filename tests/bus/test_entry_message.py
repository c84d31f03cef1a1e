"""The relay writes each entry's CloudEvent out directly; it is byte for byte what the models
(the schema AsyncAPI documents) serialise, whatever the values, and it refuses what they
would send differently."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.bus.messages import (
    UnknownTopic,
    entry_event,
    entry_message,
    event_id,
    outgoing,
    routing_key,
)
from ledger.entry import Entry
from ledger.store import Record

# Every kind of character a string can hold: quotes, backslashes, each control character,
# DEL, non-ASCII, the line separators JavaScript chokes on, astral planes.
AWKWARD = '"\\/\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f é€\u2028\u2029\ufeff😀'
awkward_text = st.text(
    st.one_of(st.sampled_from(AWKWARD), st.characters(exclude_categories=["Cs"])), max_size=40
)
topics = st.builds(
    "{}:{}.{}".format,
    st.from_regex(r"[A-Za-z0-9_.]+", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9]+", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9]+", fullmatch=True),
)
hex32 = st.binary(min_size=32, max_size=32).map(bytes.hex)

records = st.builds(
    Record,
    entry=st.builds(
        Entry,
        index=st.integers(0, 2**70),
        stream=st.uuids().map(str),
        stream_seq=st.integers(0, 2**70),
        # The database hands back hex and its own timestamps; any string is escaped all the same.
        stream_prev=st.one_of(st.none(), hex32, awkward_text),
        topic=topics,
        state_sha256=st.one_of(hex32, awkward_text),
        recorded_at=st.one_of(st.just("2026-11-23T09:30:00.123456Z"), awkward_text),
    ),
    leaf_hash=st.binary(min_size=32, max_size=32),
    chain_hash=st.binary(min_size=32, max_size=32),
    state=st.one_of(st.none(), st.binary(max_size=300)),
)


def by_the_models(record: Record, source: str, *, with_state: bool):
    return outgoing(
        entry_event(record, source, with_state=with_state), routing_key(record.entry.topic)
    )


@pytest.mark.long
@settings(max_examples=500, deadline=None)
@given(records, awkward_text, st.booleans())
def test_the_written_out_message_is_the_models_serialisation(record, source, with_state):
    assert entry_message(record, source, with_state=with_state) == by_the_models(
        record, source, with_state=with_state
    )


def example(**change) -> Record:
    entry = Entry(
        index=7,
        stream="3277e5b2-c011-4df0-8d47-4cb93a06e156",
        stream_seq=2,
        stream_prev=None,
        topic="domain.incidents:Incident.BreachEstablished",
        state_sha256="cd" * 32,
        recorded_at="2026-11-23T09:30:00.123456Z",
    )
    return Record(dataclasses.replace(entry, **change), b"\x01" * 32, b"\x02" * 32, b"")


def test_a_first_entry_has_no_streamprev_and_an_empty_state_is_sent_empty():
    record = example()
    message = entry_message(record, "urn:x", with_state=True)
    assert message == by_the_models(record, "urn:x", with_state=True)
    assert b'"streamprev"' not in message.body
    assert b'"stream_prev":null' in message.body
    assert message.body.endswith(b'"state":""}}')


@pytest.mark.parametrize(
    "change",
    [
        {"topic": "Incident.BreachEstablished"},
        {"topic": "domain.incidents:Incident.Breach-Established"},
        {"topic": 'domain:Incident.Breach"'},
        {"topic": "domain:Incident.Breach\n"},
    ],
)
def test_a_topic_without_a_routing_key_is_refused_both_ways(change):
    with pytest.raises(UnknownTopic):
        entry_message(example(**change), "urn:x")
    with pytest.raises(UnknownTopic):
        by_the_models(example(**change), "urn:x", with_state=False)


@pytest.mark.parametrize("change", [{"index": -1}, {"stream_seq": -1}])
def test_negative_numbers_are_refused_both_ways(change):
    with pytest.raises(ValueError):
        entry_message(example(**change), "urn:x")
    with pytest.raises(ValueError):
        by_the_models(example(**change), "urn:x", with_state=False)


def test_a_source_that_is_not_unicode_is_refused_both_ways():
    # What an environment variable with undecodable bytes becomes (surrogateescape).
    source = b"urn:\xff".decode("utf-8", "surrogateescape")
    with pytest.raises(ValueError):
        entry_message(example(), source)
    with pytest.raises(ValueError):
        by_the_models(example(), source, with_state=False)


@pytest.mark.parametrize(
    "change",
    [
        # The models would put another spelling of the stream in the subject than in the entry.
        {"stream": "3277E5B2-C011-4DF0-8D47-4CB93A06E156"},
        {"stream": "{3277e5b2-c011-4df0-8d47-4cb93a06e156}"},
        {"stream": "3277e5b2c0114df08d474cb93a06e156"},
        # The models would send true as 1.
        {"index": True},
        {"stream_seq": False},
    ],
)
def test_what_is_not_the_ledgers_spelling_is_refused(change):
    with pytest.raises(ValueError):
        entry_message(example(**change), "urn:x")


@settings(max_examples=500, deadline=None)
@given(st.uuids(), st.integers(0, 2**70))
def test_the_event_id_is_the_uuid5_of_stream_and_version(stream, seq):
    assert event_id(str(stream), seq) == str(uuid.uuid5(stream, str(seq)))
