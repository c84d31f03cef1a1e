"""The broker, its exchange and the two declared publishers (what AsyncAPI describes).

Entries and checkpoints go to one durable topic exchange. Every publish is persistent and
mandatory on a channel that raises on a returned message, and waits for the broker's confirm.
So that the relay never stalls on an entry no consumer has bound to yet, the exchange has an
alternate exchange whose queue parks such messages (bounded: the ledger keeps them anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

from faststream.rabbit import (
    Channel,
    ExchangeType,
    RabbitBroker,
    RabbitExchange,
    RabbitQueue,
)
from faststream.rabbit.publisher import RabbitPublisher

from adapters.bus.messages import (
    CHECKPOINT_ROUTING_KEY,
    CONTENT_TYPE,
    CheckpointEvent,
    EntryEvent,
)

UNROUTED = "bewijslast.unrouted"
UNROUTED_EXCHANGE = RabbitExchange(UNROUTED, type=ExchangeType.FANOUT, durable=True)
UNROUTED_QUEUE = RabbitQueue(UNROUTED, durable=True, arguments={"x-max-length": 100_000})
LEDGER_EXCHANGE = RabbitExchange(
    "bewijslast.ledger",
    type=ExchangeType.TOPIC,
    durable=True,
    arguments={"alternate-exchange": UNROUTED},
)


@dataclass(frozen=True)
class LedgerBus:
    broker: RabbitBroker
    exchange: RabbitExchange
    entries: RabbitPublisher
    checkpoints: RabbitPublisher

    async def declare(self) -> None:
        """The exchange (and, when it has one, its alternate exchange and parking queue)."""
        if "alternate-exchange" in (self.exchange.arguments or {}):
            parked = await self.broker.declare_queue(UNROUTED_QUEUE)
            await parked.bind(await self.broker.declare_exchange(UNROUTED_EXCHANGE))
        await self.broker.declare_exchange(self.exchange)


def ledger_bus(url: str, exchange: RabbitExchange = LEDGER_EXCHANGE) -> LedgerBus:
    broker = RabbitBroker(
        url,
        default_channel=Channel(on_return_raises=True),
        graceful_timeout=30,
    )
    entries = broker.publisher(
        exchange=exchange,
        routing_key="*.*",  # each publish names its own: <record>.<event>
        persist=True,
        content_type=CONTENT_TYPE,
        schema=EntryEvent,
        title="ledger-entries",
        description="Every ledger entry, once it is stored, as a CloudEvent. Routing key "
        "<record>.<event>, e.g. incident.breach-established, rights-request.decided.",
    )
    checkpoints = broker.publisher(
        exchange=exchange,
        routing_key=CHECKPOINT_ROUTING_KEY,
        persist=True,
        content_type=CONTENT_TYPE,
        schema=CheckpointEvent,
        title="ledger-checkpoints",
        description="Every signed checkpoint, after the entries it covers.",
    )
    return LedgerBus(broker, exchange, entries, checkpoints)
