"""Cosignatures that arrive after a checkpoint was published go out on the bus too."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.checkpoint import Checkpoint
from ledger.note import COSIGNATURE_V1, NoteSigner, NoteVerifier, cosign, split_note
from ledger.witness import WitnessPolicy
from tests.bus.conftest import Delivered, Tap, demo_ledger_copy, fresh_exchange, relay_to, run


def test_the_relay_publishes_the_newest_checkpoint_again_once_it_is_cosigned(
    demo_folder, tmp_path, amqp_url
):
    ledger = demo_ledger_copy(demo_folder, tmp_path / "demo")
    exchange = fresh_exchange()
    tap = Tap(amqp_url, exchange)
    relay, bus = relay_to(ledger, amqp_url, exchange)
    fg = NoteSigner.generate("fg.bunschoten.nl/witness", COSIGNATURE_V1)
    note = ledger.recorder.latest_signed_checkpoint()
    checkpoint = Checkpoint.parse(split_note(note)[0])

    async def go() -> tuple[list[int], list[Delivered]]:
        await tap.bind()
        published = []
        async with bus.broker:
            await bus.declare()
            await relay.relay_available()
            published.append(await relay.relay_cosignatures())  # nothing cosigned yet
            line = cosign(checkpoint.body(), fg, int(datetime.now(UTC).timestamp()))
            ledger.recorder.store_cosignature(checkpoint.size, "fg", line, datetime.now(UTC))
            published.append(await relay.relay_cosignatures())
            published.append(await relay.relay_cosignatures())  # published once
        return published, await tap.drain()

    published, delivered = run(go())
    assert published == [0, 1, 0]
    checkpoints = [m for m in delivered if m.routing_key == "ledger.checkpoint"]
    # The demo signed a checkpoint after each decision; the newest comes last, then again.
    assert [m.message_id for m in checkpoints[-2:]] == [
        f"checkpoint-{checkpoint.size}",
        f"checkpoint-{checkpoint.size}-cosigned-1",
    ]
    cosigned = checkpoints[-1].event["data"]["note"]
    assert WitnessPolicy([NoteVerifier.from_vkey(fg.vkey())], 1).cosigners(cosigned) == {fg.name}
