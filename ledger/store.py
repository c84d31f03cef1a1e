"""The ledger as a database keeps it: one protocol for everything the application's recorder
offers beyond the event store, and the record it hands out.

Both recorders (``adapters/persistence``) satisfy ``LedgerStore`` structurally; everything
that reads or extends a stored ledger (export, checkpointer, cosigning, relay, receipts, the
API) asks for it, and nothing more than it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ledger.entry import FORMAT_VERSION, Entry
from ledger.errors import MalformedInput
from ledger.merkle import NodeReader


@dataclass(frozen=True, slots=True)
class Record:
    """One stored entry with the values kept beside it."""

    entry: Entry
    leaf_hash: bytes
    chain_hash: bytes
    state: bytes | None

    def to_json(self, *, with_state: bool = True) -> str:
        state = base64.b64encode(self.state).decode() if with_state and self.state else None
        return json.dumps(
            {
                "entry": self.entry.to_object(),
                "leaf_hash": self.leaf_hash.hex(),
                "chain_hash": self.chain_hash.hex(),
                "state": state,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, line: str | bytes) -> Record:
        try:
            obj = json.loads(line)
            state = obj["state"]
            return cls(
                entry=Entry.from_object(obj["entry"]),
                leaf_hash=bytes.fromhex(obj["leaf_hash"]),
                chain_hash=bytes.fromhex(obj["chain_hash"]),
                # strict: only the alphabet, with its padding (b64decode's validate, faster)
                state=None if state is None else binascii.a2b_base64(state, strict_mode=True),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise MalformedInput(f"entry line cannot be read: {e}") from None


_LINE_START = f'{{"entry":{{"v":{FORMAT_VERSION},"index":'

# The JSON text of a line's members, in the order of the line (without ``v``; ``stream_prev``
# and ``state`` as written: ``null`` or a quoted string).
LineText = tuple[str, str, str, str, str, str, str, str, str, str]


def line_text(line: str) -> LineText | None:
    """The members of a line written exactly as ``Record.to_json`` writes it, or None.

    Only the layout is proven here (the line is rebuilt from what was cut out of it and must
    come out the same), not the members' values: a caller that takes a line this way instead
    of through ``Record.from_json`` checks those itself.
    """
    if not line.startswith(_LINE_START):
        return None
    try:
        # The hashes, the UUID and the timestamp have fixed widths; the integers and the
        # topic end at the next separator.
        at = len(_LINE_START)
        end = line.index(",", at)
        index, stream = line[at:end], line[end + 11 : end + 47]
        at = end + 62
        end = line.index(",", at)
        seq = line[at:end]
        at = end + 15
        end = at + 4 if line.startswith("null", at) else at + 66
        prev = line[at:end]
        at = end + 9
        end = line.index(',"state_sha256":"', at)
        topic = line[at:end]
    except ValueError:
        return None
    at = end + 17
    state_sha256, recorded_at = line[at : at + 64], line[at + 81 : at + 108]
    leaf, chain, state = line[at + 124 : at + 188], line[at + 204 : at + 268], line[at + 278 : -1]
    # The line as Record.to_json writes it, with every member as its JSON text.
    written = (
        f'{_LINE_START}{index},"stream":"{stream}","stream_seq":{seq},"stream_prev":{prev},'
        f'"topic":{topic},"state_sha256":"{state_sha256}","recorded_at":"{recorded_at}"}},'
        f'"leaf_hash":"{leaf}","chain_hash":"{chain}","state":{state}}}'
    )
    if written != line or not (_quoted_or_null(prev) and _quoted_or_null(state)):
        return None
    return (index, stream, seq, prev, topic, state_sha256, recorded_at, leaf, chain, state)


def _quoted_or_null(text: str) -> bool:
    """A string member's text is quoted (what is inside is the caller's to check)."""
    return text == "null" or (len(text) >= 2 and text[0] == '"' == text[-1])


class LedgerStore(NodeReader, Protocol):
    """A stored ledger: its entries and subtree hashes (appended by the event store, in each
    event's own transaction), its signed checkpoints and the witnesses' cosignatures."""

    # The clock that dates entries.
    clock: Callable[[], datetime]

    # --- entries -------------------------------------------------------------------------

    def ledger_size(self) -> int: ...

    def records(self, first: int, last: int) -> Iterator[Record]: ...

    # --- checkpoints ---------------------------------------------------------------------

    def signed_checkpoints(self) -> list[str]: ...

    def latest_signed_checkpoint(self) -> str | None: ...

    def latest_checkpoint(self) -> tuple[str, datetime] | None: ...

    def signed_checkpoint_at(self, size: int) -> str | None: ...

    def store_checkpoint(self, size: int, root: bytes, note: str, signed_at: datetime) -> None: ...

    def signer_lock(self) -> AbstractContextManager[None]:
        """One signer per ledger at a time, also across processes."""
        ...

    # --- cosignatures --------------------------------------------------------------------

    def store_cosignature(
        self, size: int, cosigner: str, line: str, received_at: datetime
    ) -> None: ...

    def cosigned_size(self, cosigner: str) -> int: ...
