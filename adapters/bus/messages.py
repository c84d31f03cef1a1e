"""What the bus carries: every ledger entry and every signed checkpoint as a CloudEvent.

CloudEvents 1.0 in structured mode (JSON), following the NL GOV profile: ``id`` is the event
id, ``source`` names the system by its organisation's OIN (``urn:nld:oin:…:systeem:…``),
``type`` is reverse-DNS and derived from the event's topic, ``subject`` is the record id.
Extension attributes (lowercase a-z0-9, as CloudEvents demands) repeat what a consumer filters
or checks on without opening ``data``; ``data`` holds the ledger entry object of LEDGER.md
section 1 with its leaf and chain hash, which is all a consumer needs to recompute both
hashes. The stored state (which holds personal data, encrypted per data subject) is left out
unless the relay is explicitly told to include it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import uuid
from dataclasses import dataclass
from json.encoder import encode_basestring

from pydantic import BaseModel, ConfigDict, Field

from ledger.checkpoint import Checkpoint
from ledger.entry import FORMAT_VERSION, UUID
from ledger.note import split_note
from ledger.store import Record

SPECVERSION = "1.0"
TYPE_PREFIX = "nl.bewijslast."
CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
CHECKPOINT_ROUTING_KEY = "ledger.checkpoint"
CHECKPOINT_TYPE = TYPE_PREFIX + CHECKPOINT_ROUTING_KEY

_TOPIC = re.compile(r"[A-Za-z0-9_.]+:([A-Za-z0-9]+)\.([A-Za-z0-9]+)\Z")
_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class UnknownTopic(ValueError):
    """A stored topic is not ``module:Record.Event``: no routing key can be made from it."""


def kebab(name: str) -> str:
    """``APNotificationSubmitted`` -> ``ap-notification-submitted``."""
    return _WORD_BREAK.sub("-", name).lower()


@functools.lru_cache(maxsize=1024)
def routing_key(topic: str) -> str:
    """``domain.incidents:Incident.BreachEstablished`` -> ``incident.breach-established``.
    Cached: a ledger has a few hundred topics at most, and the relay asks once per entry."""
    match = _TOPIC.match(topic)
    if match is None:
        raise UnknownTopic(f"topic {topic!r} is not module:Record.Event")
    return f"{kebab(match[1])}.{kebab(match[2])}"


# UUID version 5 (RFC 9562 5.5): the version and variant bits over the SHA-1 digest.
_V5_CLEAR = ~(0xF000 << 64 | 0xC000 << 48)
_V5_SET = 5 << 76 | 0x8000 << 48


def event_id(stream: str, stream_seq: int) -> str:
    """The event's id: the same for every copy of the event, whoever computes it, so that a
    consumer can drop duplicates by it (a stream and version name exactly one event).

    It is ``uuid.uuid5(UUID(stream), str(stream_seq))`` written out for the ledger's spelling
    of a stream (a lowercase hyphenated UUID, anything else is refused), without the ``UUID``
    objects: the relay computes one per entry. A test holds the two equal."""
    if not UUID.match(stream):
        raise ValueError(f"stream {stream!r} is not a lowercase hyphenated UUID")
    namespace = bytes.fromhex(stream.replace("-", ""))
    digest = hashlib.sha1(namespace + str(stream_seq).encode(), usedforsecurity=False).digest()
    h = f"{int.from_bytes(digest[:16]) & _V5_CLEAR | _V5_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class EntryObject(BaseModel):
    """The ledger entry object of LEDGER.md section 1, member for member."""

    v: int = Field(description="format version, 1")
    index: int = Field(ge=0, description="the entry's index in the ledger")
    stream: uuid.UUID = Field(description="the record (aggregate) id")
    stream_seq: int = Field(ge=0, description="the record's version of this event")
    stream_prev: str | None = Field(
        description="hex leaf hash of the record's previous entry; null for its first"
    )
    topic: str = Field(description="the stored event's topic")
    state_sha256: str = Field(description="hex SHA-256 of the stored state bytes")
    recorded_at: str = Field(description="UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ")


class EntryData(BaseModel):
    """``data`` of an entry event: the entry and the hashes stored beside it."""

    entry: EntryObject
    leaf_hash: str = Field(description="hex SHA-256(0x00 || entry bytes)")
    chain_hash: str = Field(description="hex SHA-256(previous chain hash || leaf hash)")
    state: str | None = Field(
        default=None,
        description="base64 of the stored state; only when the relay was told to include it "
        "(it holds personal data, encrypted per data subject)",
    )


class CloudEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    specversion: str = Field(default=SPECVERSION, examples=[SPECVERSION])
    id: str
    source: str = Field(
        description="the system, as the NL GOV profile names it: urn:nld:oin:<OIN>:systeem:<name>",
        examples=["urn:nld:oin:00000001001589623000:systeem:bewijslast"],
    )
    type: str
    datacontenttype: str = "application/json"


class EntryEvent(CloudEvent):
    """One ledger entry. Routing key ``<record>.<event>``, e.g. ``incident.breach-established``."""

    type: str = Field(examples=["nl.bewijslast.incident.breach-established"])
    subject: str = Field(description="the record id (the entry's stream)")
    time: str = Field(description="the entry's recorded_at")
    ledgerindex: int = Field(ge=0, description="the entry's index in the ledger")
    leafhash: str
    chainhash: str
    streamprev: str | None = Field(default=None, description="absent for a record's first entry")
    statesha256: str
    data: EntryData


class CheckpointData(BaseModel):
    origin: str
    tree_size: int = Field(ge=0)
    root_hash: str = Field(description="standard base64, as in the note")
    note: str = Field(description="the C2SP signed note (LEDGER.md section 3), verbatim")


class CheckpointEvent(CloudEvent):
    """A signed checkpoint. Routing key ``ledger.checkpoint``; published once every entry it
    covers has been published."""

    type: str = Field(default=CHECKPOINT_TYPE, examples=[CHECKPOINT_TYPE])
    subject: str = Field(description="the tree size")
    treesize: int = Field(ge=0)
    data: CheckpointData


def entry_event(record: Record, source: str, *, with_state: bool = False) -> EntryEvent:
    entry = record.entry
    state = None
    if with_state and record.state is not None:
        state = base64.b64encode(record.state).decode()
    return EntryEvent(
        id=event_id(entry.stream, entry.stream_seq),
        source=source,
        type=TYPE_PREFIX + routing_key(entry.topic),
        subject=entry.stream,
        time=entry.recorded_at,
        ledgerindex=entry.index,
        leafhash=record.leaf_hash.hex(),
        chainhash=record.chain_hash.hex(),
        streamprev=entry.stream_prev,
        statesha256=entry.state_sha256,
        data=EntryData(
            entry=EntryObject.model_validate(entry.to_object()),
            leaf_hash=record.leaf_hash.hex(),
            chain_hash=record.chain_hash.hex(),
            state=state,
        ),
    )


def checkpoint_event(note: str, source: str) -> CheckpointEvent:
    checkpoint = Checkpoint.parse(split_note(note)[0])
    root = base64.b64encode(checkpoint.root).decode()
    return CheckpointEvent(
        id=f"checkpoint-{checkpoint.size}",
        source=source,
        subject=str(checkpoint.size),
        treesize=checkpoint.size,
        data=CheckpointData(
            origin=checkpoint.origin, tree_size=checkpoint.size, root_hash=root, note=note
        ),
    )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message as it is published: body, routing key, and the AMQP message id and type."""

    body: bytes
    routing_key: str
    message_id: str
    type: str


def entry_message(record: Record, source: str, *, with_state: bool = False) -> Outgoing:
    """The entry's message, its body exactly ``encode(entry_event(record, source, ...))``
    (``tests/bus/test_entry_message.py`` holds them equal on adversarial values), written out
    instead of built from the models: the relay renders every entry, and building three models
    per entry cost it more than anything else but the publish.

    Only the source and the members read back from the database are escaped: the topic is
    ``_TOPIC``'s letters, digits and punctuation (else ``UnknownTopic``), the event id, the
    stream (checked by ``event_id``), the type, the hashes' hex and base64 need no escaping.
    Escaping is ``json``'s with ``ensure_ascii=False``, the same as pydantic's.
    """
    entry = record.entry
    index, seq = entry.index, entry.stream_seq
    if type(index) is not int or type(seq) is not int or index < 0 or seq < 0:
        raise ValueError(f"entry {index!r}: index and stream_seq are whole numbers")
    key = routing_key(entry.topic)
    kind = TYPE_PREFIX + key
    id_ = event_id(entry.stream, seq)
    leaf, chain = record.leaf_hash.hex(), record.chain_hash.hex()
    time, state_sha256 = encode_basestring(entry.recorded_at), encode_basestring(entry.state_sha256)
    if entry.stream_prev is None:
        prev_attribute, prev = "", "null"
    else:
        prev = encode_basestring(entry.stream_prev)
        prev_attribute = f'"streamprev":{prev},'
    state = "null"
    if with_state and record.state is not None:
        state = f'"{base64.b64encode(record.state).decode()}"'
    body = (
        f'{{"specversion":"{SPECVERSION}","id":"{id_}","source":{encode_basestring(source)},'
        f'"type":"{kind}","datacontenttype":"application/json","subject":"{entry.stream}",'
        f'"time":{time},"ledgerindex":{index},"leafhash":"{leaf}","chainhash":"{chain}",'
        f'{prev_attribute}"statesha256":{state_sha256},"data":{{"entry":{{"v":{FORMAT_VERSION},'
        f'"index":{index},"stream":"{entry.stream}","stream_seq":{seq},"stream_prev":{prev},'
        f'"topic":"{entry.topic}","state_sha256":{state_sha256},"recorded_at":{time}}},'
        f'"leaf_hash":"{leaf}","chain_hash":"{chain}","state":{state}}}}}'
    )
    return Outgoing(body.encode(), key, id_, kind)


def outgoing(event: CloudEvent, key: str) -> Outgoing:
    return Outgoing(encode(event), key, event.id, event.type)


def encode(event: CloudEvent) -> bytes:
    """The wire form: absent attributes are left out, never sent as null (inside ``data``,
    null members stay: the entry object has exactly its members)."""
    absent = {name for name, value in event if value is None}
    return event.model_dump_json(exclude=absent).encode()
