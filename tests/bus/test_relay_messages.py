"""Every entry reaches RabbitMQ as a well-formed CloudEvent, routed by record and event, with
no personal data; every signed checkpoint follows the entries it covers."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from adapters.bus.messages import CONTENT_TYPE, event_id, routing_key
from ledger.entry import CHAIN_START, Entry, chain_hash, leaf_hash
from tests.bus.conftest import (
    DEMO_PEOPLE,
    SOURCE,
    Delivered,
    Tap,
    fresh_exchange,
    relay_everything,
    relay_to,
    run,
)

# All on one worker (pytest -n, --dist loadgroup): its demo ledgers are recorded once.
pytestmark = pytest.mark.xdist_group(__name__)

EXTENSION_NAME = re.compile(r"[a-z0-9]+\Z")
CLOUDEVENT_ATTRIBUTES = {"specversion", "id", "source", "type", "datacontenttype", "subject"}


def relay_demo(ledger, amqp_url, **options) -> tuple[list[Delivered], object]:
    exchange = fresh_exchange()
    tap = Tap(amqp_url, exchange)
    relay, _ = relay_to(ledger, amqp_url, exchange, **options)

    async def go() -> list[Delivered]:
        await tap.bind()
        await relay_everything(relay)
        return await tap.drain()

    return run(go()), relay


@pytest.mark.parametrize(
    "ledger_fixture", ["demo", pytest.param("pg_demo", marks=pytest.mark.postgres)]
)
def test_every_entry_arrives_as_a_cloudevent_with_its_routing_key(
    ledger_fixture, amqp_url, request
):
    ledger = request.getfixturevalue(ledger_fixture)
    size = ledger.recorder.ledger_size()
    delivered, relay = relay_demo(ledger, amqp_url, batch=64)
    entries = [d for d in delivered if d.routing_key != "ledger.checkpoint"]
    assert [d.event["ledgerindex"] for d in entries] == list(range(size))
    chain = CHAIN_START
    for message, record in zip(entries, ledger.recorder.records(0, size - 1), strict=True):
        event, entry = message.event, record.entry
        assert message.persistent
        assert message.content_type == CONTENT_TYPE
        assert message.message_id == event["id"] == event_id(entry.stream, entry.stream_seq)
        assert message.routing_key == routing_key(entry.topic)
        assert event.keys() >= CLOUDEVENT_ATTRIBUTES
        assert event["specversion"] == "1.0"
        assert event["source"] == SOURCE
        assert event["type"] == f"nl.bewijslast.{message.routing_key}"
        assert event["time"] == entry.recorded_at
        assert event["subject"] == entry.stream
        assert event["datacontenttype"] == "application/json"
        extensions = event.keys() - CLOUDEVENT_ATTRIBUTES - {"time", "data"}
        assert all(EXTENSION_NAME.match(name) for name in extensions), extensions
        # From the message alone: the entry bytes give the leaf hash, the chain follows.
        sent = Entry.from_object(event["data"]["entry"])
        assert sent == entry
        leaf = leaf_hash(sent.to_bytes())
        chain = chain_hash(chain, leaf)
        assert event["leafhash"] == event["data"]["leaf_hash"] == leaf.hex()
        assert event["chainhash"] == event["data"]["chain_hash"] == chain.hex()
        assert event["statesha256"] == entry.state_sha256
        assert event.get("streamprev") == entry.stream_prev
        assert event["data"]["state"] is None
    assert {d.routing_key for d in entries} >= {
        "incident.breach-established",
        "rights-request.decided",
        "fg-advice.given",
        "processing-activity.registered",
        "personal-data-erasure.erased",
    }
    # Each checkpoint comes after every entry it covers: a consumer can check it at once.
    for position, message in enumerate(delivered):
        if message.routing_key == "ledger.checkpoint":
            before = sum(d.routing_key != "ledger.checkpoint" for d in delivered[:position])
            assert before >= message.event["treesize"]
    checkpoints = [d.event for d in delivered if d.routing_key == "ledger.checkpoint"]
    assert [c["data"]["note"] for c in checkpoints] == ledger.recorder.signed_checkpoints()
    assert all(c["type"] == "nl.bewijslast.ledger.checkpoint" for c in checkpoints)
    assert relay.tracking.position().next_index == size


def test_no_personal_data_unless_the_state_is_asked_for(demo, amqp_url):
    delivered, _ = relay_demo(demo, amqp_url)
    text = b"\n".join(d.body for d in delivered).decode()
    for person in DEMO_PEOPLE:
        # A short name like "Kok" turns up inside base64 signatures by chance: look for words.
        assert not re.search(rf"(?<![A-Za-z0-9+/]){person}(?![A-Za-z0-9+/=])", text), person
    assert "@example.nl" not in text
    assert "USB-stick" not in text  # nor anything else from the events' contents

    with_state, _ = relay_demo(demo, amqp_url, with_state=True)
    for message in with_state:
        event = message.event
        if message.routing_key != "ledger.checkpoint":
            state = base64.b64decode(event["data"]["state"])
            assert hashlib.sha256(state).hexdigest() == event["statesha256"]


def test_a_consumer_binds_to_the_events_it_needs(demo, amqp_url):
    exchange = fresh_exchange()
    breaches = Tap(amqp_url, exchange, "incident.breach-established")
    decisions = Tap(amqp_url, exchange, "rights-request.*")
    relay, _ = relay_to(demo, amqp_url, exchange)

    async def go() -> tuple[list[Delivered], list[Delivered]]:
        await breaches.bind()
        await decisions.bind()
        await relay_everything(relay)
        return await breaches.drain(), await decisions.drain()

    got_breaches, got_requests = run(go())
    topics = [r.entry.topic for r in demo.recorder.records(0, demo.recorder.ledger_size() - 1)]
    assert len(got_breaches) == topics.count("domain.incidents:Incident.BreachEstablished")
    assert len(got_requests) == sum(t.startswith("domain.requests:") for t in topics)
    assert {d.event["type"] for d in got_breaches} == {"nl.bewijslast.incident.breach-established"}
