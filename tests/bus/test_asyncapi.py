"""docs/asyncapi.json is what the code declares; regenerate it with
``python -m adapters.bus.asyncapi`` when a message changes."""

from __future__ import annotations

import json
import re

from adapters.bus.asyncapi import DOCUMENT, asyncapi_document
from adapters.bus.messages import (
    CHECKPOINT_ROUTING_KEY,
    CONTENT_TYPE,
    checkpoint_event,
    outgoing,
)
from adapters.config import DEFAULT_EVENT_SOURCE
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.note import NoteSigner


def test_the_committed_asyncapi_document_is_the_generated_one():
    assert DOCUMENT.read_text(encoding="utf-8") == asyncapi_document(), (
        "docs/asyncapi.json is stale: run python -m adapters.bus.asyncapi"
    )


def test_it_describes_both_messages_on_the_ledger_exchange():
    document = json.loads(asyncapi_document())
    schemas = document["components"]["schemas"]
    assert {"EntryEvent", "CheckpointEvent", "EntryObject"} <= schemas.keys()
    assert {"ledgerindex", "leafhash", "chainhash", "data"} <= set(
        schemas["EntryEvent"]["properties"]
    )
    for operation in document["operations"].values():
        assert operation["action"] == "send"
        assert operation["bindings"]["amqp"]["deliveryMode"] == 2
    exchanges = {c["bindings"]["amqp"]["exchange"]["name"] for c in document["channels"].values()}
    assert exchanges == {"bewijslast.ledger"}


# AsyncAPI 3.0: the keys of every components map.
COMPONENT_KEY = re.compile(r"^[a-zA-Z0-9\.\-_]+$")


def test_component_keys_match_the_specifications_pattern():
    components = json.loads(asyncapi_document())["components"]
    keys = [key for members in components.values() for key in members]
    assert keys
    assert [key for key in keys if not COMPONENT_KEY.match(key)] == []


def test_every_reference_resolves():
    document = json.loads(asyncapi_document())
    refs = re.findall(r'"\$ref": "#/([^"]+)"', json.dumps(document))
    assert refs
    for ref in refs:
        node = document
        for part in ref.split("/"):
            node = node[part]


def test_content_type_and_correlation_id_are_what_the_relay_sends():
    document = json.loads(asyncapi_document())
    origin = "ledger.bunschoten.nl/bewijslast"
    note = sign_checkpoint(Checkpoint(origin, 3, bytes(32)), NoteSigner.generate(origin))
    sent = outgoing(checkpoint_event(note, DEFAULT_EVENT_SOURCE), CHECKPOINT_ROUTING_KEY)
    payload = json.loads(sent.body)
    assert document["defaultContentType"] == CONTENT_TYPE
    for message in document["components"]["messages"].values():
        # The relay publishes with CONTENT_TYPE (tests/bus/test_relay_messages.py checks
        # each delivered message's content type against it).
        assert message["contentType"] == CONTENT_TYPE
        assert message["contentType"].startswith("application/cloudevents+json")
        location = message["correlationId"]["location"]
        assert location.startswith("$message.payload#/")
        pointer = location.removeprefix("$message.payload#/")
        assert payload[pointer] == sent.message_id
