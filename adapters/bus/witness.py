"""An example consumer: a witness that keeps its own copy of the ledger from the bus alone.

It needs nothing but the messages and the ledger's verifier key. Every entry's leaf hash is
recomputed from its entry bytes and every chain hash from the one before; every checkpoint's
signature is checked, its root against the tree of the witness's own leaves, and its
consistency with the last checkpoint it accepted. Copies of a message already kept are dropped
by their event id; a different message under a kept event id or index is a fork. Entries that
arrive ahead of a gap wait until the gap is filled. A message that fails a check is refused
(and, with the subscription below, ends in the dead-letter queue once its delivery limit is
reached); the witness then keeps what it had verified and says where the ledger broke.

With ``--feed`` (the API's base URL) it fetches what its queue never received, because it
subscribed late, from ``GET /ledger/entries``: at start, and whenever a message arrives ahead
of a gap. The feed is trusted no more than the bus: its entries go through the same checks.

With ``--cosigner-key`` (a key from ``bewijslast witness keys generate``) it also cosigns each
checkpoint it verified (tlog-cosignature/v1): a stronger statement than a tlog-witness's, for it
checked every entry. A fork (a different message for a kept entry, or checkpoints that are not
consistent) stops it with exit status 1: someone must look.

    python -m adapters.bus.witness --broker amqp://... --store witness.db --vkey ledger.vkey \
        [--feed https://ledger.example.nl/api] [--cosigner-key witness.key]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

from faststream import AckPolicy
from faststream.rabbit import (
    Channel,
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitQueue,
)
from faststream.rabbit.annotations import RabbitMessage

from adapters.bus.messages import CHECKPOINT_TYPE, event_id
from adapters.bus.wiring import LEDGER_EXCHANGE
from adapters.persistence.appending import Clock, utc_now
from adapters.persistence.bus_witness import WitnessCopy
from adapters.witness.cli import witness_signer
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.entry import Entry, leaf_hash
from ledger.errors import (
    InconsistentCheckpoints,
    LeafHashMismatch,
    MalformedInput,
    VerificationFailure,
)
from ledger.merkle import MemoryTree, consistency_proof
from ledger.note import NoteSigner, NoteVerifier, cosign
from ledger.store import Record
from ledger.verify import Heads, not_consistent, of_another_ledger, root_differs, verify_ledger

log = logging.getLogger(__name__)
DELIVERY_LIMIT = 5
VERIFY_BATCH = 65_536  # kept entries verified at a time when the witness starts


class ForkDetected(VerificationFailure):
    """Two different messages for one event id or one index: someone rewrote history."""

    check = "fork"


class Received(Enum):
    KEPT = "kept"
    DUPLICATE = "duplicate"


SPLIT_VIEW = (ForkDetected, InconsistentCheckpoints)


class Witness:
    """The witness's copy of the ledger in its own SQLite file, and the checks on it; with a
    ``cosigner``, its cosignature on every checkpoint it verified."""

    def __init__(
        self,
        path: Path,
        verifiers: Sequence[NoteVerifier],
        origin: str,
        cosigner: NoteSigner | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.verifiers, self.origin = list(verifiers), origin
        self.cosigner, self.clock = cosigner, clock
        self.copy = WitnessCopy(path)
        self._load()

    # --- what it holds ---------------------------------------------------------------------

    def _load(self) -> None:
        """The verified prefix: every entry up to the first gap (an entry is kept beyond a
        gap unverified, and verified in the transaction that fills the gap), checked again
        as it is read."""
        self.heads = Heads()
        self.tree = MemoryTree()
        self.checkpoint: Checkpoint | None = None
        self._verify_following()
        note = self.copy.latest_verified_note()
        if note is not None:
            self.checkpoint = open_checkpoint(note, self.verifiers)

    @property
    def size(self) -> int:
        """How many entries are verified: the ledger's first ``size`` entries."""
        return self.heads.size

    # --- receiving -------------------------------------------------------------------------

    def receive(self, body: bytes) -> Received:
        """Check and keep one message; raises a VerificationFailure (or MalformedInput) and
        keeps nothing of it when a check fails."""
        return self._atomically(lambda: self._receive_message(body))

    def receive_feed_item(self, item: object) -> Received:
        """One item of ``GET /ledger/entries``: the ``data`` of an entry message, checked as
        one."""
        return self._atomically(lambda: self._receive_entry(*_entry_of(item)))

    def receive_note(self, note: str) -> Received:
        """A signed checkpoint, as ``GET /ledger/checkpoint`` serves it."""
        return self._atomically(lambda: self._receive_checkpoint(note))

    def waiting(self) -> bool:
        """Whether entries are kept ahead of a gap."""
        return self.copy.any_entry_from(self.size)

    def _atomically(self, receive: Callable[[], Received]) -> Received:
        try:
            outcome = receive()
            self._advance()
            self.copy.commit()
            return outcome
        except BaseException:
            self.copy.rollback()
            self._load()
            raise

    def _receive_message(self, body: bytes) -> Received:
        event = json.loads(body)
        if not isinstance(event, dict):
            raise MalformedInput("a CloudEvent is a JSON object")
        if event.get("type") == CHECKPOINT_TYPE:
            return self._receive_checkpoint(_member(_member(event, "data", dict), "note", str))
        return self._receive_entry(*_record_of(event))

    def _receive_entry(self, record: Record, eid: str) -> Received:
        leaf = leaf_hash(record.entry.to_bytes())
        if leaf != record.leaf_hash:
            raise LeafHashMismatch(
                "entry bytes do not hash to the leaf hash sent",
                index=record.entry.index,
                expected=leaf.hex(),
                found=record.leaf_hash.hex(),
            )
        received = (record.entry.index, eid, record.leaf_hash, record.chain_hash)
        kept = self.copy.kept_entries(eid, record.entry.index)
        if kept:
            if kept != [received]:
                raise ForkDetected(
                    "a different entry was kept for this event id or index",
                    index=record.entry.index,
                    expected=[(i, e, h.hex(), c.hex()) for i, e, h, c in kept],
                    found=(
                        record.entry.index,
                        eid,
                        record.leaf_hash.hex(),
                        record.chain_hash.hex(),
                    ),
                )
            return Received.DUPLICATE
        self.copy.keep_entry(received, record.entry.to_bytes())
        return Received.KEPT

    def _receive_checkpoint(self, note: str) -> Received:
        checkpoint = open_checkpoint(note, self.verifiers)
        foreign = of_another_ledger(checkpoint, self.origin)
        if foreign is not None:
            raise foreign
        kept = self.copy.checkpoint_root(checkpoint.size)
        if kept is not None:
            conflict = not_consistent(
                Checkpoint(self.origin, checkpoint.size, kept), checkpoint, None
            )
            if conflict is not None:
                raise conflict
            return Received.DUPLICATE
        self.copy.keep_checkpoint(checkpoint.size, checkpoint.root, note)
        return Received.KEPT

    def _advance(self) -> None:
        """Verify what now follows on from the verified prefix, then the checkpoints it
        completes."""
        self._verify_following()
        for size, note in self.copy.unverified_up_to(self.size):
            checkpoint = open_checkpoint(note, self.verifiers)
            self._verify_checkpoint(checkpoint)
            self.copy.mark_verified(size)
            if self.cosigner is not None:
                # In the transaction that verified it: cosigned if and only if verified.
                line = cosign(checkpoint.body(), self.cosigner, int(self.clock().timestamp()))
                self.copy.keep_cosignature(size, line)

    def _verify_following(self) -> None:
        """Verify the kept entries that follow on from the verified prefix, up to a gap (the
        rest waits for it), with the verifier's checks from where the prefix ends."""
        run: list[Record] = []
        for data, leaf, chain in self.copy.entries_from(self.size):
            entry = Entry.from_bytes(data)
            if entry.index != self.size + len(run):
                break
            run.append(Record(entry, leaf, chain, None))
            if len(run) == VERIFY_BATCH:
                self._verify_run(run)
                run = []
        self._verify_run(run)

    def _verify_run(self, run: list[Record]) -> None:
        if not run:
            return
        report = verify_ledger(run, [], [], origin=self.origin, heads=self.heads)
        if not report.ok:
            raise report.failures[0]
        for record in run:
            self.tree.append(record.leaf_hash)

    def _verify_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Check 5 as the verifier makes it: the root against the entries received, and
        consistency with the newest checkpoint accepted before, when that is smaller."""
        old = self.checkpoint
        before = old if old is not None and old.size < checkpoint.size else None
        failure: VerificationFailure | None = root_differs(
            checkpoint, self.tree, 0 if before is None else before.size
        )
        if failure is None and before is not None:
            proof = consistency_proof(before.size, checkpoint.size, self.tree)
            failure = not_consistent(before, checkpoint, proof)
        if failure is not None:
            raise failure
        if old is None or checkpoint.size > old.size:
            self.checkpoint = checkpoint

    def cosigned(self) -> str | None:
        """The newest checkpoint it cosigned, with its cosignature line."""
        return self.copy.newest_cosigned()

    def close(self) -> None:
        self.copy.close()


def _member(obj: dict[str, Any], name: str, kind: type) -> Any:
    value = obj.get(name)
    if not isinstance(value, kind):
        raise MalformedInput(f"message member {name!r} is missing or not a {kind.__name__}")
    return value


def _entry_of(data: object) -> tuple[Record, str]:
    """The entry of a message's ``data`` (or of a feed item, the same object), and its event
    id, derived as the relay derives it."""
    if not isinstance(data, dict):
        raise MalformedInput("an entry's data is a JSON object")
    entry = Entry.from_object(data.get("entry"))
    try:
        leaf = bytes.fromhex(_member(data, "leaf_hash", str))
        chain = bytes.fromhex(_member(data, "chain_hash", str))
    except ValueError:
        raise MalformedInput("leaf_hash and chain_hash are hex") from None
    return Record(entry, leaf, chain, None), event_id(entry.stream, entry.stream_seq)


def _record_of(event: dict[str, Any]) -> tuple[Record, str]:
    """The entry a message carries, and its event id; the attributes must agree with it."""
    record, eid = _entry_of(_member(event, "data", dict))
    entry, leaf, chain = record.entry, record.leaf_hash, record.chain_hash
    attributes = {
        "id": eid,
        "ledgerindex": entry.index,
        "leafhash": leaf.hex(),
        "chainhash": chain.hex(),
        "subject": entry.stream,
    }
    wrong = sorted(name for name, value in attributes.items() if event.get(name) != value)
    if wrong:
        raise MalformedInput(f"entry {entry.index}: attributes {wrong} disagree with data")
    return record, eid


# --- from the HTTP feed ------------------------------------------------------------------------

FEED_PAGE = 1000  # the API's largest page
FEED_TIMEOUT = 30.0  # seconds per request: a feed that hangs must not hang the witness


class Feed:
    """The API's ledger feed, read to fill the witness's gaps. Whatever it serves is checked
    exactly as a message is; a refusal leaves the witness with what it had verified."""

    def __init__(self, base_url: str, witness: Witness) -> None:
        self.base_url, self.witness = base_url.rstrip("/") + "/", witness
        self.lock = asyncio.Lock()  # the start's backfill and a message's never interleave

    async def fill(self, *, to_end: bool) -> None:
        """Fetch entries after the verified prefix, following ``next``, until the gap is
        filled (or, with ``to_end``, the feed's end); then its newest signed checkpoint.
        Raises a VerificationFailure or MalformedInput on what the feed served, OSError when
        it cannot be reached."""
        async with self.lock:
            witness = self.witness
            url: object = self._url(f"ledger/entries?after={witness.size - 1}&limit={FEED_PAGE}")
            while isinstance(url, str) and (to_end or witness.waiting()):
                page = await asyncio.to_thread(_fetch_json, url)
                before = witness.size
                for item in _member(page, "items", list):
                    witness.receive_feed_item(item)
                if witness.size == before:
                    break  # no progress: a page of nothing new, or a feed that loops
                following = page.get("next")
                url = following and urllib.parse.urljoin(url, str(following))
            try:
                note = await asyncio.to_thread(_fetch, self._url("ledger/checkpoint"))
            except urllib.error.HTTPError as error:
                if error.code != 404:  # 404: none signed yet
                    raise
            else:
                witness.receive_note(note.decode(errors="replace"))  # a bad note fails its check
            log.info("witness: %d entries verified after reading the feed", witness.size)

    def _url(self, path: str) -> str:
        return urllib.parse.urljoin(self.base_url, path)

    async def fill_logged(self, *, to_end: bool) -> None:
        """A backfill that fails is logged, not raised: the bus goes on, and the next message
        ahead of the gap tries again."""
        try:
            await self.fill(to_end=to_end)
        except (VerificationFailure, MalformedInput) as failure:
            log.error("witness: refused an entry of the feed %s: %s", self.base_url, failure)
        except OSError as failure:
            log.warning("witness: the feed %s cannot be read: %s", self.base_url, failure)


def _fetch(url: str) -> bytes:
    # Only http(s): the feed's ``next`` links are untrusted, and urllib would open file: too.
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise MalformedInput(f"the feed links to {url!r}, not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310
        url, headers={"Accept": "application/json, text/plain"}
    )
    with urllib.request.urlopen(request, timeout=FEED_TIMEOUT) as response:  # noqa: S310
        return bytes(response.read())


def _fetch_json(url: str) -> dict[str, Any]:
    try:
        page = json.loads(_fetch(url))
    except ValueError:
        raise MalformedInput(f"the feed at {url} is not JSON") from None
    if not isinstance(page, dict):
        raise MalformedInput("a feed page is a JSON object")
    return page


# --- on the bus --------------------------------------------------------------------------------


def witness_broker(
    url: str,
    witness: Witness,
    queue: str,
    feed: Feed | None = None,
    on_fork: Callable[[VerificationFailure], None] | None = None,
) -> RabbitBroker:
    """A subscription as docs/consumers.md describes it: a quorum queue bound to every
    routing key, one message at a time (order matters), a failing message requeued until
    its delivery limit and then dead-lettered. With a feed, a message ahead of a gap has the
    gap filled from it. ``on_fork`` hears of a split view."""
    # Every message received and processed is logged at DEBUG; refusals at ERROR, below.
    broker = RabbitBroker(url, default_channel=Channel(prefetch_count=1), log_level=logging.DEBUG)

    @broker.subscriber(
        RabbitQueue(
            queue,
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key="#",
            arguments={
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-exchange": _dead_letters(queue).name,
            },
        ),
        exchange=LEDGER_EXCHANGE,
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_message(message: RabbitMessage) -> None:
        try:
            outcome = witness.receive(message.body)
        except (VerificationFailure, MalformedInput) as failure:
            log.error("witness: refused %s: %s", message.message_id, failure)
            if on_fork is not None and isinstance(failure, SPLIT_VIEW):
                on_fork(failure)
            raise
        log.debug("witness: %s %s", outcome.value, message.message_id)
        if feed is not None and witness.waiting():
            await feed.fill_logged(to_end=False)

    return broker


def _dead_letters(queue: str) -> RabbitExchange:
    return RabbitExchange(f"{queue}.dead", type=ExchangeType.FANOUT, durable=True)


async def declare_dead_letters(broker: RabbitBroker, queue: str) -> None:
    """Where refused messages end up: ``<queue>.dead``, to be looked at by a person."""
    parked = await broker.declare_queue(RabbitQueue(f"{queue}.dead", durable=True))
    await parked.bind(await broker.declare_exchange(_dead_letters(queue)))


async def watch(
    url: str,
    witness: Witness,
    queue: str,
    stopping: asyncio.Event,
    feed: Feed | None = None,
    on_fork: Callable[[VerificationFailure], None] | None = None,
) -> None:
    broker = witness_broker(url, witness, queue, feed, on_fork)
    async with broker:
        await declare_dead_letters(broker, queue)
        await broker.start()
        if feed is not None:
            # After the queue exists, so that whatever the feed does not have yet comes by bus.
            await feed.fill_logged(to_end=True)
        await stopping.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m adapters.bus.witness", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--broker", required=True, help="amqp://user:password@host:port/")
    parser.add_argument("--store", type=Path, required=True, help="the witness's SQLite file")
    parser.add_argument("--vkey", type=Path, required=True, help="the ledger's verifier key")
    parser.add_argument("--queue", default="bewijslast.witness")
    parser.add_argument(
        "--feed", help="the API's base URL, to fetch entries published before the queue existed"
    )
    parser.add_argument(
        "--cosigner-key", type=Path, help="a witness key: cosign every checkpoint verified"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    verifier = NoteVerifier.from_vkey(args.vkey.read_text().strip())
    cosigner = None if args.cosigner_key is None else witness_signer(args.cosigner_key)
    witness = Witness(args.store, [verifier], origin=verifier.name, cosigner=cosigner)
    feed = None if args.feed is None else Feed(args.feed, witness)
    forks: list[VerificationFailure] = []

    async def run() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)

        def fork(failure: VerificationFailure) -> None:
            forks.append(failure)
            stopping.set()

        await watch(args.broker, witness, args.queue, stopping, feed, fork)

    asyncio.run(run())
    print(f"witness: {witness.size} entries verified, newest checkpoint {witness.checkpoint}")
    witness.close()
    if forks:
        print(f"witness: FORK, the ledger shows another history: {forks[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
