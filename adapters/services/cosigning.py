"""The ledger collects witnesses' cosignatures on its checkpoints (C2SP tlog-witness client).

After a checkpoint is signed, each configured witness gets it with the consistency proof from
the size that witness last cosigned (so a witness that was down is caught up in one request);
a 409 tells the size the witness holds, and the request is made once more from there. Every
cosignature is checked against the witness's verifier key before it is stored. A witness that
is down, slow or refuses is logged, never raised: it does not fail the command that signed.

BEWIJSLAST_WITNESSES_FILE names a file with one witness per line: ``<URL> <verifier key>``.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from adapters.config import ConfigurationError, Settings
from adapters.persistence.appending import Clock, utc_now
from adapters.services.periodic import Periodic
from ledger.checkpoint import Checkpoint
from ledger.errors import MalformedInput
from ledger.merkle import consistency_proof
from ledger.note import COSIGNATURE_V1, NoteVerifier, split_note
from ledger.store import LedgerStore
from ledger.witness import AddCheckpoint, WitnessPolicy

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5.0
WITNESSES_ENV = "BEWIJSLAST_WITNESSES_FILE"


@dataclass(frozen=True)
class Witness:
    url: str  # the submission prefix: <url>/add-checkpoint
    verifier: NoteVerifier

    @property
    def cosigner(self) -> str:
        """How its cosignatures are filed: name and key id, so a new key starts afresh."""
        return f"{self.verifier.name}+{self.verifier.key_id.hex()}"


def read_witnesses(path: Path) -> list[Witness]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ConfigurationError(f"cannot read the witnesses from {path}: {e}") from None
    witnesses = []
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        url, _, vkey = line.strip().partition(" ")
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"{path}: a witness line is '<http(s) URL> <verifier key>'")
        verifier = NoteVerifier.from_vkey(vkey.strip())
        if verifier.key_type != COSIGNATURE_V1:
            raise ConfigurationError(f"{path}: {verifier.name} is not a witness (0x04) key")
        witnesses.append(Witness(url.rstrip("/"), verifier))
    return witnesses


class Cosigning:
    def __init__(
        self,
        ledger: LedgerStore,
        witnesses: Sequence[Witness],
        *,
        timeout: float = TIMEOUT_SECONDS,
        clock: Clock = utc_now,
    ) -> None:
        self.ledger, self.witnesses = ledger, list(witnesses)
        self.timeout, self.clock = timeout, clock
        self._pool = ThreadPoolExecutor(max(len(self.witnesses), 1), "cosigning")
        self._periodic: Periodic | None = None

    def collect(self, note: str, witnesses: Sequence[Witness] | None = None) -> int:
        """Ask every witness (or those given), in parallel, to cosign the signed checkpoint
        ``note``; the number of cosignatures stored. Never raises."""
        checkpoint = Checkpoint.parse(split_note(note)[0])
        asked = self._pool.map(
            lambda w: self._ask_logged(w, checkpoint, note),
            self.witnesses if witnesses is None else witnesses,
        )
        return sum(asked)

    def _ask_logged(self, witness: Witness, checkpoint: Checkpoint, note: str) -> bool:
        try:
            return self._ask(witness, checkpoint, note)
        except Exception as e:
            log.warning(
                "witness %s: no cosignature for size %d: %s", witness.url, checkpoint.size, e
            )
            return False

    def _ask(self, witness: Witness, checkpoint: Checkpoint, note: str) -> bool:
        old = self.ledger.cosigned_size(witness.cosigner)
        if old > checkpoint.size:
            return False  # it cosigned a larger tree already: nothing to add
        for _ in range(2):
            status, body = self._post(witness, self._request(old, checkpoint, note))
            if status == 200:
                self._store(witness, checkpoint, body)
                return True
            if status != 409:
                raise MalformedInput(f"refused with {status}: {body.strip()[:200]}")
            # Its size differs from ours (it committed a cosignature we never received, or
            # lost its state): continue from the size it holds, once.
            held = _size_of(body)
            if held > checkpoint.size or held == old:
                raise MalformedInput(f"it holds size {held}, we sent {checkpoint.size} from {old}")
            old = held
        return False

    def _request(self, old: int, checkpoint: Checkpoint, note: str) -> bytes:
        proof = consistency_proof(old, checkpoint.size, self.ledger) if old else []
        return AddCheckpoint(old, proof, note).format().encode()

    def _post(self, witness: Witness, body: bytes) -> tuple[int, str]:
        request = urllib.request.Request(  # noqa: S310 - the URL is configured, http(s) only
            f"{witness.url}/add-checkpoint", data=body, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode(errors="replace")

    def _store(self, witness: Witness, checkpoint: Checkpoint, body: str) -> None:
        """Keep the witness's line, once it verifies under its key: nothing else is stored."""
        policy = WitnessPolicy([witness.verifier], 1)
        for line in body.splitlines(keepends=True):
            if line.startswith("\u2014 ") and policy.cosigners(checkpoint.body() + "\n" + line):
                self.ledger.store_cosignature(checkpoint.size, witness.cosigner, line, self.clock())
                log.info("witness %s cosigned size %d", witness.verifier.name, checkpoint.size)
                return
        raise MalformedInput("its answer holds no cosignature that verifies under its key")

    def catch_up(self) -> int:
        """Send the newest checkpoint to witnesses that have not cosigned it (one was down)."""
        note = self.ledger.latest_signed_checkpoint()
        if note is None:
            return 0
        size = Checkpoint.parse(split_note(note)[0]).size
        behind = [w for w in self.witnesses if self.ledger.cosigned_size(w.cosigner) < size]
        return self.collect(note, behind) if behind else 0

    # --- catching up on the clock, beside the checkpointer -----------------------------------

    def start(self, interval: float) -> None:
        self._periodic = Periodic("cosigning", self._tick, lambda: interval)
        self._periodic.start()

    def stop(self) -> None:
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic = None

    def _tick(self) -> None:
        try:
            self.catch_up()
        except Exception:
            log.exception("catching up the witnesses failed")


def cosigning_for(settings: Settings, ledger: LedgerStore) -> Cosigning | None:
    """The witnesses of BEWIJSLAST_WITNESSES_FILE, if it is set."""
    if settings.witnesses_file is None:
        return None
    return Cosigning(ledger, read_witnesses(settings.witnesses_file))


def _size_of(body: str) -> int:
    text = body.strip()
    if not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        raise MalformedInput(f"a 409 carries the witness's size, not {text[:40]!r}")
    return int(text)
