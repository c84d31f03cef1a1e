"""Ledger entries: the entry object, its bytes, the leaf hash and the chain (LEDGER.md 1)."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ledger.errors import MalformedInput

FORMAT_VERSION = 1
ENTRY_PREFIX = b"bewijslast/entry/v1\n"
CHAIN_START = bytes(32)  # chain[-1]

_MEMBERS = frozenset(
    ("v", "index", "stream", "stream_seq", "stream_prev", "topic", "state_sha256", "recorded_at")
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
HEX32 = re.compile(r"[0-9a-f]{64}\Z")
RECORDED_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\Z")


@functools.lru_cache(maxsize=1024)
def _topic_json(topic: str) -> str:
    """A topic as a JSON string; cached, since a ledger has a handful of topics."""
    return json.dumps(topic, ensure_ascii=False)


def _members(state_sha256: str, stream: str, seq: str | int, topic_json: str) -> tuple[str, str]:
    """The entry text's members that do not depend on the ledger's head, in JCS order: those
    between ``recorded_at`` and ``stream_prev``, and those after it. Every string but the
    topic is validated hex, a UUID or a timestamp, so only the topic needs escaping."""
    return (
        f'"state_sha256":"{state_sha256}","stream":"{stream}",',
        f'"stream_seq":{seq},"topic":{topic_json},"v":{FORMAT_VERSION}}}',
    )


def head_free_members(
    state_sha256: str, stream: str, stream_seq: int, topic: str
) -> tuple[str, str]:
    """``_members`` for an entry not yet appended. A database that appends under its own lock
    (adapters/persistence/postgres.py) gets these rendered, the topic escaped here, and fills
    in only the index, the timestamp and the previous leaf's hex, which need no escaping."""
    return _members(state_sha256, stream, stream_seq, _topic_json(topic))


@functools.lru_cache(maxsize=1024)
def topic_of_json(text: str) -> str | None:
    """The topic whose JSON string ``text`` is, if ``text`` is exactly how an entry writes it."""
    try:
        topic = json.loads(text)
    except ValueError:
        return None
    if type(topic) is not str or _topic_json(topic) != text:
        return None
    return topic


def entry_bytes(
    index: str,
    recorded_at: str,
    state_sha256: str,
    stream: str,
    prev_json: str,
    seq: str,
    topic_json: str,
) -> bytes:
    """Prefix and JCS, written out from the members as they appear in JSON (``prev_json`` is
    ``null`` or the quoted hex, ``topic_json`` the topic's JSON string), so that the verifier
    can build them straight from the text of a line.
    ``tests/ledger/test_entry_bytes.py`` checks this against RFC 8785 for any entry."""
    middle, tail = _members(state_sha256, stream, seq, topic_json)
    return ENTRY_PREFIX + _entry_text(index, recorded_at, middle, prev_json, tail).encode()


def _entry_text(index: str, recorded_at: str, middle: str, prev_json: str, tail: str) -> str:
    """The JCS text of an entry from the head-free members (``_members``) and what the head
    gives; the entry's bytes are ``ENTRY_PREFIX`` and this text."""
    return (
        f'{{"index":{index},"recorded_at":"{recorded_at}",{middle}"stream_prev":{prev_json},{tail}'
    )


def leaf_hash(entry_bytes: bytes) -> bytes:
    """RFC 6962 leaf hash."""
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


# ``leaf_hash``'s input up to an entry's text, so that an append hashes in one call.
_LEAF_INPUT_PREFIX = b"\x00" + ENTRY_PREFIX


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + leaf).digest()


def format_recorded_at(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("recorded_at needs an aware datetime")
    # Spelled out: strftime does not zero-pad years below 1000 on every platform.
    t = moment.astimezone(UTC)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T"
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}.{t.microsecond:06d}Z"
    )


def next_recorded_at(now: datetime, previous: str | None) -> str:
    """The later of the clock and the previous entry's recorded_at, so time never decreases.

    The fixed-width format sorts as text in time order.
    """
    current = format_recorded_at(now)
    if previous is not None and previous > current:
        return previous
    return current


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    stream: str
    stream_seq: int
    stream_prev: str | None
    topic: str
    state_sha256: str
    recorded_at: str

    def to_object(self) -> dict[str, object]:
        return {
            "v": FORMAT_VERSION,
            "index": self.index,
            "stream": self.stream,
            "stream_seq": self.stream_seq,
            "stream_prev": self.stream_prev,
            "topic": self.topic,
            "state_sha256": self.state_sha256,
            "recorded_at": self.recorded_at,
        }

    def to_bytes(self) -> bytes:
        prev = "null" if self.stream_prev is None else f'"{self.stream_prev}"'
        return entry_bytes(
            str(self.index),
            self.recorded_at,
            self.state_sha256,
            self.stream,
            prev,
            str(self.stream_seq),
            _topic_json(self.topic),
        )

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.to_bytes())

    @classmethod
    def from_object(cls, obj: object) -> Entry:
        """Read an entry object, refusing anything that is not exactly the format."""
        if not isinstance(obj, dict):
            raise MalformedInput("an entry must be a JSON object")
        if obj.keys() != _MEMBERS:
            missing = sorted(_MEMBERS - obj.keys())
            extra = sorted(obj.keys() - _MEMBERS)
            raise MalformedInput(f"entry members wrong: missing {missing}, unexpected {extra}")
        # type() rather than isinstance(): a bool is an int in Python, never in the format.
        index, seq, prev = obj["index"], obj["stream_seq"], obj["stream_prev"]
        if type(index) is not int or type(seq) is not int or index < 0 or seq < 0:
            raise MalformedInput("entry index and stream_seq are whole numbers, never negative")
        if obj["v"] != FORMAT_VERSION or type(obj["v"]) is not int:
            raise MalformedInput(f"entry format version {obj['v']!r} is not {FORMAT_VERSION}")
        if type(obj["topic"]) is not str:
            raise MalformedInput("entry topic is a string")
        if type(obj["stream"]) is not str or not UUID.match(obj["stream"]):
            raise MalformedInput("entry stream is not a lowercase hyphenated UUID")
        state = obj["state_sha256"]
        if type(state) is not str or not HEX32.match(state):
            raise MalformedInput("entry state_sha256 is not 64 lowercase hex digits")
        if prev is not None and (type(prev) is not str or not HEX32.match(prev)):
            raise MalformedInput("entry stream_prev is not null or 64 lowercase hex digits")
        recorded_at = obj["recorded_at"]
        if type(recorded_at) is not str or not RECORDED_AT.match(recorded_at):
            raise MalformedInput("entry recorded_at is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
        return cls(
            index=obj["index"],
            stream=obj["stream"],
            stream_seq=obj["stream_seq"],
            stream_prev=prev,
            topic=obj["topic"],
            state_sha256=obj["state_sha256"],
            recorded_at=obj["recorded_at"],
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Entry:
        if not data.startswith(ENTRY_PREFIX):
            raise MalformedInput("entry bytes do not start with the v1 prefix")
        try:
            obj = json.loads(data[len(ENTRY_PREFIX) :].decode())
        except (UnicodeDecodeError, ValueError) as e:
            raise MalformedInput(f"entry bytes are not JSON: {e}") from None
        entry = cls.from_object(obj)
        if entry.to_bytes() != data:
            raise MalformedInput("entry bytes are not in canonical form")
        return entry


@dataclass(frozen=True, slots=True)
class ChainHead:
    """What the next append needs to know about the ledger so far."""

    size: int
    chain_hash: bytes
    recorded_at: str | None

    @classmethod
    def empty(cls) -> ChainHead:
        return cls(size=0, chain_hash=CHAIN_START, recorded_at=None)


@dataclass(frozen=True, slots=True)
class NewEvent:
    stream: str
    stream_seq: int
    topic: str
    state: bytes


# An event's entry as far as it is known before the ledger's head, so that an append computes
# it before it takes the ledger's lock (``pending_entry``): its stream, stream_seq and topic, its
# state's digest (the hex is in the members), its head-free members (``_members``) and the
# state itself (what the append stores).
# A plain tuple, read by unpacking: an append makes one per event, and an instance of a
# named tuple (a subclass of tuple) costs ~0.8 µs more to make and free (docs/BENCHMARKS.md).
PendingEntry = tuple[str, int, str, bytes, tuple[str, str], bytes]


def pending_entry(stream: str, stream_seq: int, topic: str, state: bytes) -> PendingEntry:
    digest = hashlib.sha256(state).digest()
    return (
        stream,
        stream_seq,
        topic,
        digest,
        _members(digest.hex(), stream, stream_seq, _topic_json(topic)),
        state,
    )


@dataclass(frozen=True, slots=True)
class Link:
    """An entry together with the values stored beside it."""

    entry: Entry
    leaf_hash: bytes
    chain_hash: bytes


# Takes each entry as ``chain_pending`` computes it: the pending entry, its index, the previous
# leaf of its stream (None for a stream's first), its leaf hash and its chain hash.
EntrySink = Callable[[PendingEntry, int, bytes | None, bytes, bytes], None]


def extend_chain(
    head: ChainHead,
    events: list[NewEvent],
    now: datetime,
    stream_heads: Mapping[str, bytes],
) -> list[Link]:
    """Compute the entries for events appended after ``head``.

    ``stream_heads`` maps a stream to the leaf hash of its latest entry already stored.
    The caller holds the ledger's write lock, so ``head`` is the real head.
    """
    pending = [pending_entry(e.stream, e.stream_seq, e.topic, e.state) for e in events]
    recorded_at = next_recorded_at(now, head.recorded_at)
    links: list[Link] = []

    def link(
        entry: PendingEntry, index: int, prev: bytes | None, leaf: bytes, chain: bytes
    ) -> None:
        stream, stream_seq, topic, state_sha256, _, _ = entry
        stream_prev = None if prev is None else prev.hex()
        fields = Entry(
            index, stream, stream_seq, stream_prev, topic, state_sha256.hex(), recorded_at
        )
        links.append(Link(fields, leaf, chain))

    chain_pending(head, recorded_at, pending, dict(stream_heads), link)
    return links


def chain_pending(
    head: ChainHead,
    recorded_at: str,
    pending: Sequence[PendingEntry],
    stream_heads: dict[str, bytes],
    sink: EntrySink,
) -> tuple[bytes, list[bytes]]:
    """``extend_chain`` for entries whose head-free part was computed beforehand, without an
    object per entry: each entry goes to ``sink`` as it is chained (an append builds its rows
    there, in this one loop), and the last chain hash and the leaf hashes are returned. What
    is left for the lock is the index, the stream link and two hashes per entry;
    ``recorded_at`` is ``next_recorded_at`` of the head's. ``stream_heads`` is brought up to
    date in place."""
    leaves: list[bytes] = []
    keep = leaves.append
    chain = head.chain_hash
    sha256 = hashlib.sha256
    for index, entry in enumerate(pending, head.size):
        stream = entry[0]
        middle, tail = entry[4]
        prev = stream_heads.get(stream)
        prev_json = "null" if prev is None else f'"{prev.hex()}"'
        text = _entry_text(str(index), recorded_at, middle, prev_json, tail)
        leaf = sha256(_LEAF_INPUT_PREFIX + text.encode()).digest()  # leaf_hash(entry bytes)
        chain = chain_hash(chain, leaf)
        stream_heads[stream] = leaf
        keep(leaf)
        sink(entry, index, prev, leaf, chain)
    return chain, leaves
