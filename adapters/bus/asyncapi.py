"""The AsyncAPI document of the bus, generated from the relay's declared publishers.

``docs/asyncapi.json`` is this document, committed; a test fails when it differs from what
the code generates. Regenerate with ``python -m adapters.bus.asyncapi``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from adapters.bus.messages import CONTENT_TYPE
from adapters.bus.wiring import ledger_bus

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"
EXAMPLE_BROKER = "amqp://rabbitmq:5672/"


def asyncapi_document() -> str:
    bus = ledger_bus(EXAMPLE_BROKER)  # described, never connected
    specification = AsyncAPI(
        bus.broker,
        title="Bewijslast ledger bus",
        version="1",
        description="Every ledger entry and every signed checkpoint of a Bewijslast ledger, "
        "as CloudEvents (JSON, structured mode, NL GOV profile). Entries carry no personal "
        "data unless the relay is told to include the stored state. See docs/consumers.md.",
    )
    document = as_on_the_wire(json.loads(specification.to_specification().to_json()))
    # Sorted: FastStream lists publishers in no fixed order.
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def as_on_the_wire(document: dict[str, Any]) -> dict[str, Any]:
    """What FastStream writes, set right: component keys within the spec's pattern
    (``^[a-zA-Z0-9.\\-_]+$``, FastStream puts a ``:`` in them), the content type the relay
    publishes with, and the correlation id where the messages carry one: the CloudEvent id in
    the body (also the AMQP ``message_id``), not a header they do not have."""
    document["defaultContentType"] = CONTENT_TYPE
    text = json.dumps(document)
    for kind, members in document["components"].items():
        for key in members:
            if ":" in key:
                old, new = f"#/components/{kind}/{key}", f"#/components/{kind}/{_key(key)}"
                text = text.replace(json.dumps(old), json.dumps(new))
    document = json.loads(text)
    for kind, members in document["components"].items():
        document["components"][kind] = {_key(k): v for k, v in members.items()}
    for message in document["components"]["messages"].values():
        message["title"] = _key(message["title"])
        message["contentType"] = CONTENT_TYPE
        message["correlationId"] = {
            "description": "the CloudEvent id: the same for every copy of an event",
            "location": "$message.payload#/id",
        }
    return document


def _key(name: str) -> str:
    return name.replace(":", ".")


def main() -> int:
    DOCUMENT.write_text(asyncapi_document(), encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
