"""docs/asyncapi.json is what the code declares; regenerate it with
``python -m adapters.bus.asyncapi`` when a message changes."""

from __future__ import annotations

import json

from adapters.bus.asyncapi import DOCUMENT, asyncapi_document


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
