"""Export bundles (LEDGER.md section 5): writing them from a ledger, and reading them back."""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ledger.checkpoint import Checkpoint
from ledger.entry import CHAIN_START
from ledger.errors import MalformedInput
from ledger.merkle import consistency_proof, inclusion_proof
from ledger.note import b64, split_note, unb64
from ledger.receipt import Receipt
from ledger.store import LedgerStore

BUNDLE_FORMAT = "bewijslast-bundle/1"


def checkpoint_file_name(size: int) -> str:
    return f"checkpoints/{size}.txt"


def consistency_file_name(old: int, new: int) -> str:
    return f"consistency/{old}-{new}.txt"


def export_bundle(
    source: LedgerStore,
    out: Path,
    *,
    origin: str,
    verifier_keys: Sequence[str],
    first: int = 0,
    last: int | None = None,
    with_state: bool = True,
    progress: Callable[[int], None] | None = None,
) -> dict[str, object]:
    """Write a bundle of entries ``first..last`` under the newest signed checkpoint.

    A path ending in ``.zip`` gets a zip archive, anything else a directory.
    """
    notes = source.signed_checkpoints()
    if not notes:
        raise MalformedInput("the ledger has no signed checkpoint yet: make one first")
    checkpoints = sorted(
        ((Checkpoint.parse(split_note(n)[0]), n) for n in notes), key=lambda pair: pair[0].size
    )
    newest, newest_note = checkpoints[-1]
    tree_size = newest.size
    last = tree_size - 1 if last is None else last
    if not 0 <= first <= last < tree_size:
        raise MalformedInput(
            f"range {first}..{last} is not inside the newest checkpoint (size {tree_size})"
        )
    chosen = [(c, n) for c, n in checkpoints if first < c.size <= last + 1]
    if not chosen or chosen[-1][0].size != tree_size:
        chosen.append((newest, newest_note))
    meta: dict[str, object] = {
        "format": BUNDLE_FORMAT,
        "origin": origin,
        "tree_size": tree_size,
        "first_index": first,
        "last_index": last,
        "verifier_keys": list(verifier_keys),
    }
    with _BundleWriter(out) as writer:
        writer.write("bundle.json", json.dumps(meta, indent=2) + "\n")
        with writer.stream("entries.jsonl") as entries:
            for count, record in enumerate(source.records(first, last), start=1):
                entries.write(record.to_json(with_state=with_state) + "\n")
                if progress:
                    progress(count)
        for checkpoint, note in chosen:
            writer.write(checkpoint_file_name(checkpoint.size), note)
        for (old, _), (new, _) in itertools.pairwise(chosen):
            proof = consistency_proof(old.size, new.size, source)
            writer.write(
                consistency_file_name(old.size, new.size), "".join(b64(h) + "\n" for h in proof)
            )
        if first > 0 or last + 1 < tree_size:
            if first > 0:
                chain_before = next(source.records(first - 1, first - 1)).chain_hash
                writer.write("prefix.json", json.dumps({"chain_hash_before": chain_before.hex()}))
            for record in source.records(first, last):
                receipt = Receipt(
                    record.entry.to_bytes(),
                    record.entry.index,
                    inclusion_proof(record.entry.index, tree_size, source),
                    newest_note,
                )
                writer.write(f"proofs/{record.entry.index}.tlog-proof", receipt.format())
    return meta


class _BundleWriter:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.zip: zipfile.ZipFile | None = None

    def __enter__(self) -> _BundleWriter:
        if self.out.suffix == ".zip":
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.zip = zipfile.ZipFile(self.out, "w", compression=zipfile.ZIP_DEFLATED)
        else:
            self.out.mkdir(parents=True, exist_ok=True)
        return self

    def write(self, name: str, text: str) -> None:
        with self.stream(name) as f:
            f.write(text)

    @contextmanager
    def stream(self, name: str) -> Iterator[IO[str]]:
        if self.zip is not None:
            with self.zip.open(name, "w") as raw, io.TextIOWrapper(raw, "utf-8") as text:
                yield text
            return
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as f:
            yield f

    def __exit__(self, *exc: object) -> None:
        if self.zip is not None:
            self.zip.close()


@dataclass(frozen=True, slots=True)
class FilePart:
    """Lines ``start..end`` (byte offsets on line boundaries) of an entries.jsonl file."""

    path: Path
    start: int
    end: int


# A run of entries.jsonl to check on its own: where to read it, or its bytes (from a zip).
EntryPart = FilePart | bytes


# A run of a file is read this much at a time. Blocks of a MiB were each mapped afresh by
# malloc and their pages faulted in again: 92,000 page faults and 0.42 s of system time per
# 500,000 lines, against 23,000 and 0.23 s with blocks of 128 KiB (docs/BENCHMARKS.md).
READ_BYTES = 2**17


def read_entry_part(part: EntryPart) -> Iterator[bytes]:
    """The bytes of a run, a block of whole lines at a time, however long the run."""
    if isinstance(part, bytes):
        yield part
        return
    with part.path.open("rb") as f:
        f.seek(part.start)
        left = part.end - part.start
        while left > 0:
            block = f.read(min(READ_BYTES, left))
            if not block:
                return
            if len(block) < left:
                block += f.readline()  # runs end on a line's end, so this stays inside
            left -= len(block)
            yield block


@dataclass
class Bundle:
    """A bundle read from a directory or a zip archive."""

    meta: dict[str, object]
    checkpoints: list[str]
    consistency: dict[tuple[int, int], list[bytes]]
    receipts: dict[int, str]
    chain_hash_before: bytes
    _open: Callable[[str], IO[str]] = field(repr=False)
    path: Path = field(default=Path())

    @property
    def first_index(self) -> int:
        return _integer(self.meta, "first_index")

    @property
    def last_index(self) -> int:
        return _integer(self.meta, "last_index")

    @property
    def tree_size(self) -> int:
        return _integer(self.meta, "tree_size")

    @property
    def verifier_keys(self) -> list[str]:
        keys = self.meta.get("verifier_keys", [])
        return [str(k) for k in keys] if isinstance(keys, list) else []

    @property
    def entries_size(self) -> int:
        """The size of entries.jsonl in bytes."""
        if self.path.is_dir():
            return (self.path / "entries.jsonl").stat().st_size
        with zipfile.ZipFile(self.path) as archive:
            return archive.getinfo("entries.jsonl").file_size

    def entry_parts(self, size: int) -> Iterator[EntryPart]:
        """entries.jsonl in runs of whole lines of about ``size`` bytes, in order."""
        if self.path.is_dir():
            yield from _file_parts(self.path / "entries.jsonl", size)
            return
        with zipfile.ZipFile(self.path) as archive, archive.open("entries.jsonl") as f:
            while block := f.read(size):
                yield block + f.readline()

    @classmethod
    def open(cls, path: Path) -> Bundle:
        try:
            names, open_text = _opener(path)

            def read(name: str) -> str:
                with open_text(name) as f:
                    return f.read()

            meta = json.loads(read("bundle.json"))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
            raise MalformedInput(f"{path} is not a readable bundle: {e}") from None
        if not isinstance(meta, dict) or meta.get("format") != BUNDLE_FORMAT:
            raise MalformedInput(f"bundle.json does not say format {BUNDLE_FORMAT}")
        for key in ("tree_size", "first_index", "last_index"):
            _integer(meta, key)
        if not isinstance(meta.get("origin"), str):
            raise MalformedInput("bundle.json lacks the origin")
        checkpoints = [read(n) for n in names if n.startswith("checkpoints/")]
        consistency = {}
        for name in names:
            if name.startswith("consistency/") and name.endswith(".txt"):
                old, _, new = name[len("consistency/") : -4].partition("-")
                hashes = [unb64(line, "consistency proof") for line in read(name).split()]
                consistency[(int(old), int(new))] = hashes
        receipts = {
            int(n[len("proofs/") : -len(".tlog-proof")]): read(n)
            for n in names
            if n.startswith("proofs/") and n.endswith(".tlog-proof")
        }
        chain_before = CHAIN_START
        if int(meta["first_index"]) > 0:
            try:
                chain_before = bytes.fromhex(json.loads(read("prefix.json"))["chain_hash_before"])
            except (KeyError, ValueError) as e:
                raise MalformedInput(f"a partial bundle needs prefix.json: {e}") from None
        return cls(meta, checkpoints, consistency, receipts, chain_before, open_text, path)


def _file_parts(path: Path, size: int) -> Iterator[FilePart]:
    with path.open("rb") as f:
        end = f.seek(0, io.SEEK_END)
        start = 0
        while start < end:
            f.seek(min(start + size, end))
            f.readline()  # on to the end of the line
            stop = min(f.tell(), end)
            yield FilePart(path, start, stop)
            start = stop


def _integer(meta: dict[str, object], key: str) -> int:
    value = meta.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedInput(f"bundle.json {key} is not a whole number")
    return value


def _opener(path: Path) -> tuple[list[str], Callable[[str], IO[str]]]:
    if path.is_file() and zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        return sorted(archive.namelist()), lambda n: io.TextIOWrapper(archive.open(n), "utf-8")
    if not path.is_dir():
        raise OSError(f"{path} is neither a directory nor a zip archive")
    names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    return names, lambda n: (path / n).open(encoding="utf-8")
