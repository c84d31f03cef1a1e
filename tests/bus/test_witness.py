"""A consumer verifies the ledger from the bus alone: the chain, every checkpoint's signature
and consistency; it drops copies by event id and refuses a tampered message."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid

import aio_pika
import pytest

from adapters.bus.messages import event_id
from adapters.bus.wiring import LEDGER_EXCHANGE
from adapters.bus.witness import (
    ForkDetected,
    Received,
    Witness,
    declare_dead_letters,
    witness_broker,
)
from adapters.signing_keys import write_key_files
from ledger.entry import Entry, chain_hash, leaf_hash
from ledger.errors import (
    BadSignature,
    ChainMismatch,
    LeafHashMismatch,
    MalformedInput,
    RootMismatch,
    StreamLinkBroken,
    TimeWentBackwards,
)
from ledger.note import COSIGNATURE_V1, NoteSigner, NoteVerifier, sign_note, split_note
from ledger.store import Record
from ledger.verify import verify_ledger
from ledger.witness import WitnessPolicy
from tests.bus.conftest import (
    ON_THE_LEDGER_EXCHANGE,
    ORIGIN,
    Delivered,
    Tap,
    delete_queues,
    fresh_exchange,
    newest_verified,
    queue_length,
    relay_everything,
    relay_to,
    run,
    until,
)

pytestmark = ON_THE_LEDGER_EXCHANGE


@pytest.fixture(scope="module")
def messages(demo, amqp_url) -> list[Delivered]:
    exchange = fresh_exchange()
    tap = Tap(amqp_url, exchange)
    relay, _ = relay_to(demo, amqp_url, exchange, batch=100)

    async def go() -> list[Delivered]:
        await tap.bind()
        await relay_everything(relay)
        return await tap.drain()

    return run(go())


@pytest.fixture
def witness(demo, tmp_path):
    witness = Witness(tmp_path / "witness.db", [demo.verifier], ORIGIN)
    yield witness
    witness.close()


def body_with(message: Delivered, change) -> bytes:
    event = message.event
    change(event)
    return json.dumps(event).encode()


def test_the_witness_verifies_everything_from_the_messages(demo, messages, witness, tmp_path):
    outcomes = [witness.receive(m.body) for m in messages]
    assert set(outcomes) == {Received.KEPT}
    size = demo.recorder.ledger_size()
    assert witness.size == size
    assert witness.checkpoint is not None
    assert witness.checkpoint.size == size
    # Copies (a relay that re-sent a batch) are dropped by event id.
    assert {witness.receive(m.body) for m in messages} == {Received.DUPLICATE}
    # Its copy survives a restart.
    witness.close()
    again = Witness(tmp_path / "witness.db", [demo.verifier], ORIGIN)
    assert (again.size, again.checkpoint) == (size, witness.checkpoint)
    again.close()


def test_entries_ahead_of_a_gap_wait_for_it(demo, messages, witness):
    entries = [m for m in messages if m.routing_key != "ledger.checkpoint"]
    for message in reversed(entries):
        witness.receive(message.body)
    assert witness.size == demo.recorder.ledger_size()


def tampered_entries(message: Delivered) -> list[tuple[bytes, type[Exception]]]:
    def topic(e):
        e["data"]["entry"]["topic"] += "Again"

    def both_hashes(e):
        e["data"]["entry"]["topic"] += "Again"
        e["leafhash"] = e["data"]["leaf_hash"] = "00" * 32

    def chain(e):
        e["chainhash"] = e["data"]["chain_hash"] = "11" * 32

    def attribute(e):
        e["ledgerindex"] += 1

    return [
        (body_with(message, topic), LeafHashMismatch),
        (body_with(message, both_hashes), LeafHashMismatch),
        (body_with(message, chain), ChainMismatch),
        (body_with(message, attribute), MalformedInput),
    ]


def test_a_tampered_entry_is_refused_and_nothing_of_it_kept(messages, witness):
    entries = [m for m in messages if m.routing_key != "ledger.checkpoint"]
    for message in entries[:10]:
        witness.receive(message.body)
    for body, failure in tampered_entries(entries[10]):
        with pytest.raises(failure):
            witness.receive(body)
        assert witness.size == 10
    witness.receive(entries[10].body)
    assert witness.size == 11
    # The original is kept: a different message under its event id is a fork.
    with pytest.raises(ForkDetected):
        witness.receive(tampered_entries(entries[10])[2][0])


def record_of(event: dict) -> Record:
    data = event["data"]
    entry = Entry.from_object(data["entry"])
    return Record(entry, bytes.fromhex(data["leaf_hash"]), bytes.fromhex(data["chain_hash"]), None)


def rehashed(message: Delivered, after: Delivered, change) -> dict:
    """The message with its entry changed and its hashes made to fit again, so that only a
    check across entries (stream links, time) can find it."""
    event = message.event
    change(event["data"]["entry"])
    entry = Entry.from_object(event["data"]["entry"])
    leaf = leaf_hash(entry.to_bytes())
    event["id"] = event_id(entry.stream, entry.stream_seq)
    chain = chain_hash(bytes.fromhex(after.event["data"]["chain_hash"]), leaf)
    event["leafhash"] = event["data"]["leaf_hash"] = leaf.hex()
    event["chainhash"] = event["data"]["chain_hash"] = chain.hex()
    return event


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        (lambda entry: entry.update(stream_prev="22" * 32), StreamLinkBroken),
        (lambda entry: entry.update(stream_seq=entry["stream_seq"] + 1), StreamLinkBroken),
        (lambda entry: entry.update(recorded_at="2000-01-01T00:00:00.000000Z"), TimeWentBackwards),
    ],
)
def test_an_entry_that_does_not_follow_on_from_those_kept_is_refused_as_the_verifier_would(
    messages, witness, change, failure
):
    entries = [m for m in messages if m.routing_key != "ledger.checkpoint"]
    # The first entry that continues a stream begun in an earlier message.
    at = next(
        i
        for i, m in enumerate(entries)
        if any(e.event["subject"] == m.event["subject"] for e in entries[:i])
    )
    for message in entries[:at]:
        witness.receive(message.body)
    tampered = rehashed(entries[at], entries[at - 1], change)
    with pytest.raises(failure) as refused:
        witness.receive(json.dumps(tampered).encode())
    assert witness.size == at
    # The verifier, over the same ledger at once, finds the same: index, check, values.
    report = verify_ledger(
        [*(record_of(m.event) for m in entries[:at]), record_of(tampered)], [], [], origin=ORIGIN
    )
    found = report.failures[0]
    assert (
        (refused.value.index, refused.value.check)
        == (found.index, found.check)
        == (at, failure.check)
    )
    assert (refused.value.expected, refused.value.found) == (found.expected, found.found)
    assert refused.value.message == found.message


def test_a_checkpoint_must_be_signed_by_the_ledger_and_match_its_entries(
    messages, witness, tmp_path
):
    entries = [m for m in messages if m.routing_key != "ledger.checkpoint"]
    checkpoint = next(m for m in messages if m.routing_key == "ledger.checkpoint")
    size = checkpoint.event["treesize"]
    for message in entries[:size]:
        witness.receive(message.body)
    text, _ = split_note(checkpoint.event["data"]["note"])
    impostor = NoteSigner.generate(ORIGIN)

    def forged(e):
        e["data"]["note"] = sign_note(text, [impostor])

    with pytest.raises(BadSignature):
        witness.receive(body_with(checkpoint, forged))
    # Signed by a trusted key, over a root that is not the one of these entries.
    lines = text.split("\n")
    lines[2] = "A" * 43 + "="
    liar = Witness(tmp_path / "liar.db", [NoteVerifier.from_vkey(impostor.vkey())], ORIGIN)
    for message in entries[:size]:
        liar.receive(message.body)

    def wrong_root(e):
        e["data"]["note"] = sign_note("\n".join(lines), [impostor])

    with pytest.raises(RootMismatch):
        liar.receive(body_with(checkpoint, wrong_root))
    liar.close()
    assert witness.receive(checkpoint.body) == Received.KEPT
    assert witness.checkpoint is not None
    assert witness.checkpoint.size == size


def test_the_witness_runs_on_its_own(demo, amqp_url, tmp_path):
    """``python -m adapters.bus.witness``: subscribed before the relay publishes, it verifies
    the whole ledger, and stops on SIGTERM."""
    assert demo.settings.signing_key_file is not None
    vkey = demo.settings.signing_key_file.with_suffix(".vkey")
    queue, store = f"witness.{uuid.uuid4().hex[:12]}", tmp_path / "witness.db"
    command = [sys.executable, "-m", "adapters.bus.witness", "--broker", amqp_url]
    command += ["--store", str(store), "--vkey", str(vkey), "--queue", queue]
    witness = subprocess.Popen(command, env=demo.env(), stdout=subprocess.PIPE, text=True)
    relay, _ = relay_to(demo, amqp_url, LEDGER_EXCHANGE)
    size = demo.recorder.ledger_size()

    def verified() -> int:
        assert witness.poll() is None, "the witness exited"
        return newest_verified(store)

    async def go() -> None:
        await until(lambda: queue_length(amqp_url, queue) is not None, "the witness's queue")
        await relay_everything(relay)
        await until(lambda: verified() == size, "the witness verifying everything")

    run(go())
    witness.send_signal(signal.SIGTERM)
    out, _ = witness.communicate(timeout=60)
    run(delete_queues(amqp_url, queue, f"{queue}.dead"))
    assert witness.returncode == 0
    assert f"witness: {size} entries verified" in out


def test_a_refused_message_ends_in_the_dead_letter_queue(demo, messages, amqp_url, tmp_path):
    witness = Witness(tmp_path / "witness.db", [demo.verifier], ORIGIN)
    queue = f"witness.{uuid.uuid4().hex[:12]}"
    first = next(m for m in messages if m.routing_key != "ledger.checkpoint")
    tampered, _ = tampered_entries(first)[0]

    async def go() -> None:
        broker = witness_broker(amqp_url, witness, queue)
        async with broker:
            await declare_dead_letters(broker, queue)
            await broker.start()
            async with await aio_pika.connect(amqp_url) as connection:
                channel = await connection.channel()
                exchange = await channel.get_exchange(LEDGER_EXCHANGE.name)
                await exchange.publish(
                    aio_pika.Message(tampered, message_id=first.message_id),
                    routing_key=first.routing_key,
                )
            await until(lambda: queue_length(amqp_url, f"{queue}.dead") == 1, "dead-lettering")

    run(go())
    run(delete_queues(amqp_url, queue, f"{queue}.dead"))
    assert witness.size == 0
    witness.close()


# --- the bus witness as a cosigner -------------------------------------------------------

FG = "fg.bunschoten.nl/witness"


def test_it_cosigns_every_checkpoint_it_verified_and_nothing_after_a_fork(
    demo,
    messages,
    tmp_path,
):
    fg = NoteSigner.generate(FG, COSIGNATURE_V1)
    witness = Witness(tmp_path / "w.db", [demo.verifier], ORIGIN, cosigner=fg)
    entries = [m for m in messages if m.routing_key != "ledger.checkpoint"]
    for message in messages:
        witness.receive(message.body)
    cosigned = witness.cosigned()
    assert cosigned is not None
    assert witness.checkpoint is not None
    assert cosigned.startswith(demo.recorder.latest_signed_checkpoint().split("\n\n")[0])
    assert WitnessPolicy([NoteVerifier.from_vkey(fg.vkey())], 1).cosigners(cosigned) == {FG}
    with pytest.raises(ForkDetected):
        witness.receive(tampered_entries(entries[3])[2][0])
    assert witness.cosigned() == cosigned
    witness.close()


def test_a_fork_on_the_bus_stops_the_cosigning_witness_with_exit_status_1(
    demo,
    messages,
    amqp_url,
    tmp_path,
):
    assert demo.settings.signing_key_file is not None
    vkey = demo.settings.signing_key_file.with_suffix(".vkey")
    key_file, _ = write_key_files(NoteSigner.generate(FG, COSIGNATURE_V1), tmp_path, "witness")
    queue, store = f"witness.{uuid.uuid4().hex[:12]}", tmp_path / "witness.db"
    command = [sys.executable, "-m", "adapters.bus.witness", "--broker", amqp_url]
    command += ["--store", str(store), "--vkey", str(vkey), "--queue", queue]
    command += ["--cosigner-key", str(key_file)]
    witness = subprocess.Popen(command, env=demo.env(), stderr=subprocess.PIPE, text=True)
    size = demo.recorder.ledger_size()
    entry = next(m for m in messages if m.routing_key != "ledger.checkpoint")

    async def go() -> None:
        await until(lambda: queue_length(amqp_url, queue) is not None, "the witness's queue")
        async with await aio_pika.connect(amqp_url) as connection:
            channel = await connection.channel()
            # Straight to its queue (the relay's position is shared with other tests): the
            # ledger as published, then another history for an entry it kept.
            for message in messages:
                await channel.default_exchange.publish(
                    aio_pika.Message(message.body, message_id=message.message_id),
                    routing_key=queue,
                )
            await until(lambda: newest_verified(store) == size, "the witness verifying all")
            reader = Witness(store, [demo.verifier], ORIGIN)
            assert reader.cosigned() is not None  # cosigned what it verified
            reader.close()
            await channel.default_exchange.publish(
                aio_pika.Message(tampered_entries(entry)[2][0], message_id=entry.message_id),
                routing_key=queue,
            )

    run(go())
    _, err = witness.communicate(timeout=60)
    run(delete_queues(amqp_url, queue, f"{queue}.dead"))
    assert witness.returncode == 1
    assert "FORK" in err
