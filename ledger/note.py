"""C2SP signed notes with Ed25519 keys, and tlog-cosignature/v1 witness signatures."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from ledger.errors import BadSignature, MalformedInput

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
SIGNATURE_DASH = "\u2014 "  # em dash and a space start every signature line
MAX_SIGNATURES = 100


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str, what: str) -> bytes:
    """Strict standard base64: one text per value, so no bit of it can change unnoticed."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedInput(f"{what} is not standard base64") from None
    if base64.b64encode(data).decode() != text:
        raise MalformedInput(f"{what} is not canonical base64")
    return data


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise MalformedInput(f"key name {name!r} is empty or holds '+' or a space")


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class NoteSigner:
    """An Ed25519 note key. Its text form is Go's note private-key format."""

    name: str
    private_key: Ed25519PrivateKey
    key_type: int = ED25519

    @classmethod
    def generate(cls, name: str, key_type: int = ED25519) -> NoteSigner:
        """A log's key (Ed25519), or a witness's (COSIGNATURE_V1)."""
        _check_name(name)
        return cls(name, Ed25519PrivateKey.generate(), key_type)

    @property
    def public_key(self) -> bytes:
        return _public_bytes(self.private_key.public_key())

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.key_type, self.public_key)

    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([self.key_type]) + self.public_key)}"

    def skey(self) -> str:
        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{b64(bytes([self.key_type]) + seed)}"

    @classmethod
    def from_skey(cls, text: str) -> NoteSigner:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise MalformedInput("not a note private key (PRIVATE+KEY+name+id+key)")
        name, hex_id, encoded = parts[2:]
        raw = unb64(encoded, "private key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise MalformedInput("only Ed25519 private keys are supported")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]), raw[0])
        if signer.key_id.hex() != hex_id:
            raise MalformedInput("private key id does not match the key")
        return signer

    def sign(self, text: str) -> str:
        """A signature line over the note text."""
        signature = self.private_key.sign(text.encode())
        return f"{SIGNATURE_DASH}{self.name} {b64(self.key_id + signature)}\n"


@dataclass(frozen=True)
class NoteVerifier:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey
    key_type: int = ED25519

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise MalformedInput(f"verifier key {vkey!r} is not name+id+key")
        name, hex_id, encoded = parts
        _check_name(name)
        raw = unb64(encoded, "verifier key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise MalformedInput("verifier key is not an Ed25519 (0x01) or cosignature (0x04) key")
        try:
            expected_id = bytes.fromhex(hex_id)
        except ValueError:
            raise MalformedInput("verifier key id is not hex") from None
        if len(expected_id) != 4 or key_id(name, raw[0], raw[1:]) != expected_id:
            raise MalformedInput(f"verifier key id {hex_id} does not match the key")
        return cls(name, expected_id, Ed25519PublicKey.from_public_bytes(raw[1:]), raw[0])

    def verify(self, text: str, blob: bytes) -> bool:
        message = text.encode()
        signature = blob
        if self.key_type == COSIGNATURE_V1:
            if len(blob) != 72:
                return False
            (timestamp,) = struct.unpack(">Q", blob[:8])
            message = f"cosignature/v1\ntime {timestamp}\n".encode() + message
            signature = blob[8:]
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def cosign(text: str, signer: NoteSigner, timestamp: int) -> str:
    """A tlog-cosignature/v1 line by a witness over a checkpoint's text."""
    if signer.key_type != COSIGNATURE_V1:
        raise ValueError("a cosignature needs a cosignature (0x04) key")
    message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
    blob = struct.pack(">Q", timestamp) + signer.private_key.sign(message)
    return f"{SIGNATURE_DASH}{signer.name} {b64(signer.key_id + blob)}\n"


@dataclass(frozen=True)
class SignatureLine:
    name: str
    key_id: bytes
    blob: bytes


def split_note(note: str) -> tuple[str, list[SignatureLine]]:
    """Separate the text (with its final newline) from the signature lines."""
    if not note.endswith("\n"):
        raise MalformedInput("a signed note ends with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise MalformedInput("a signed note holds no control characters but newlines")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise MalformedInput("a signed note has a blank line before its signatures")
    text, lines = note[: cut + 1], note[cut + 2 :].splitlines()
    if not lines:
        raise MalformedInput("a signed note has at least one signature")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedInput(f"more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(SIGNATURE_DASH):
            raise MalformedInput(f"signature line does not start with an em dash: {line!r}")
        name, _, encoded = line[len(SIGNATURE_DASH) :].partition(" ")
        _check_name(name)
        blob = unb64(encoded, "signature")
        if len(blob) < 5:
            raise MalformedInput("signature is too short")
        signatures.append(SignatureLine(name, blob[:4], blob[4:]))
    return text, signatures


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    if not text.endswith("\n"):
        raise ValueError("note text ends with a newline")
    return text + "\n" + "".join(s.sign(text) for s in signers)


def open_note(note: str, verifiers: Sequence[NoteVerifier]) -> tuple[str, list[NoteVerifier]]:
    """Return the note text and the known keys that signed it.

    Signatures by unknown keys are ignored; a bad signature by a known key is refused,
    and so is a note that no known key signed.
    """
    text, signatures = split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    signed_by: list[NoteVerifier] = []
    for line in signatures:
        verifier = known.get((line.name, line.key_id))
        if verifier is None:
            continue
        if not verifier.verify(text, line.blob):
            raise BadSignature(f"signature by {line.name} does not verify")
        signed_by.append(verifier)
    if not signed_by:
        raise BadSignature("no trusted key signed this note")
    return text, signed_by
