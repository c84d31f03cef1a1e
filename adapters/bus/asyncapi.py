"""The AsyncAPI document of the bus, generated from the relay's declared publishers.

``docs/asyncapi.json`` is this document, committed; a test fails when it differs from what
the code generates. Regenerate with ``python -m adapters.bus.asyncapi``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from faststream.specification import AsyncAPI

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
    document = json.loads(specification.to_specification().to_json())
    # Sorted: FastStream lists publishers in no fixed order.
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    DOCUMENT.write_text(asyncapi_document(), encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
