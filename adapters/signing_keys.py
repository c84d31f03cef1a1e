"""The ledger's signing key on disk: generated once, kept outside the database."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from adapters.config import ConfigurationError
from ledger.note import NoteSigner


def generate_key_files(origin: str, out: Path) -> tuple[Path, Path]:
    """Write ``ledger.key`` (private, mode 600) and ``ledger.vkey`` into ``out``."""
    return write_key_files(NoteSigner.generate(origin), out, "ledger")


def write_key_files(signer: NoteSigner, out: Path, stem: str) -> tuple[Path, Path]:
    """Write ``<stem>.key`` (private, mode 600) and ``<stem>.vkey`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    key_file, vkey_file = out / f"{stem}.key", out / f"{stem}.vkey"
    if key_file.exists():
        raise ConfigurationError(f"{key_file} exists: a {stem} key is never overwritten")
    # Created with mode 600 from the start, so the key is never readable by others.
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as f:
        f.write(signer.skey() + "\n")
    vkey_file.write_text(signer.vkey() + "\n")
    return key_file, vkey_file


def load_signer(key_file: Path, origin: str) -> NoteSigner:
    signer = read_private_key(key_file)
    if signer.name != origin:
        raise ConfigurationError(
            f"the signing key is for origin {signer.name!r}, not {origin!r} (BEWIJSLAST_ORIGIN)"
        )
    return signer


def read_private_key(key_file: Path) -> NoteSigner:
    """A note private key from a file that only its owner may read."""
    try:
        mode = key_file.stat().st_mode
        text = key_file.read_text()
    except OSError as e:
        raise ConfigurationError(f"cannot read the signing key {key_file}: {e}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"the signing key {key_file} is readable by others: chmod 600 {key_file}"
        )
    return NoteSigner.from_skey(text)


def read_vkeys(path: Path) -> list[str]:
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        raise ConfigurationError(f"cannot read verifier keys from {path}: {e}") from None
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
