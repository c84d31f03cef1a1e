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

from ledger.entry import Entry
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
