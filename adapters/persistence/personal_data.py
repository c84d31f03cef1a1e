"""Stores ``PersonalData`` only as AES-256-GCM ciphertext under the subject's own key."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Transcoding

from adapters.config import ConfigurationError
from adapters.persistence.subject_keys import NONCE_SIZE, SubjectKeyStore
from domain.application import Bewijslast
from domain.personal_data import Erased, PersonalData
from projections.base import SEALED_UNDER


class PersonalDataAsCiphertext(Transcoding):
    type = PersonalData
    name = "personal_data"

    def __init__(self, keys: SubjectKeyStore) -> None:
        self.keys = keys

    def encode(self, obj: PersonalData) -> dict[str, str]:
        key = self.keys.key_for(obj.subject, create=True)
        nonce = os.urandom(NONCE_SIZE)
        # The subject id is authenticated, so ciphertext cannot be moved to another subject.
        sealed = AESGCM(key).encrypt(nonce, obj.value.encode(), obj.subject.bytes)
        return {"subject": obj.subject.hex, "ciphertext": base64.b64encode(nonce + sealed).decode()}

    def decode(self, data: dict[str, Any]) -> PersonalData | Erased:
        subject = UUID(data["subject"])
        key = self.keys.key_for(subject, create=False)
        if key is None:
            return Erased(subject, sealed=data["ciphertext"])
        return PersonalData(
            subject, unsealed(key, subject, data["ciphertext"]), sealed=data["ciphertext"]
        )


def unsealed(key: bytes, subject: UUID, ciphertext: str) -> str:
    sealed = base64.b64decode(ciphertext)
    return AESGCM(key).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], subject.bytes).decode()


class ErasedAsSubject(Transcoding):
    """An aggregate may carry ``Erased`` values into later events or snapshots."""

    type = Erased
    name = "erased"

    def encode(self, obj: Erased) -> str:
        return obj.subject.hex

    def decode(self, data: str) -> Erased:
        return Erased(UUID(data))


class PersonalDataWithoutMasterKey(Transcoding):
    """Without the master key personal data can be neither sealed nor opened: say so, and
    which file holds the key the data was recorded under, rather than fail on an unknown type
    deep inside the library. ``advice`` says how to configure the key; it is only worked out
    when needed (it looks in the database)."""

    type = PersonalData
    name = "personal_data"

    def __init__(
        self, advice: Callable[[], str] = lambda: "set BEWIJSLAST_MASTER_KEY_FILE"
    ) -> None:
        self.advice = advice

    def encode(self, obj: PersonalData) -> dict[str, str]:
        raise ConfigurationError(
            f"cannot record personal data without the master key: {self.advice()}"
        )

    def decode(self, data: dict[str, Any]) -> PersonalData:
        raise ConfigurationError(
            "the ledger holds personal data, sealed per data subject, and there is no master "
            f"key: {self.advice()}"
        )


def opened(app: Bewijslast, found: Any) -> Any:
    """A read model's answer with every sealed text opened (``[gewist]`` once its key is gone),
    as it is shown; read models themselves hold only ciphertext. The keys are read at once."""
    sealed: list[dict[str, Any]] = []

    def collect(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, dict):
            if SEALED_UNDER in value:
                sealed.append(value)
            else:
                for item in value.values():
                    collect(item)

    collect(found)
    if not sealed:
        return found
    sealing = next((t for t in app.extra_transcodings if t.type is PersonalData), None)
    if not isinstance(sealing, PersonalDataAsCiphertext):
        advice = sealing.advice() if isinstance(sealing, PersonalDataWithoutMasterKey) else ""
        raise ConfigurationError(
            "the read models hold personal data, sealed per key, and there is no master "
            f"key: {advice or 'set BEWIJSLAST_MASTER_KEY_FILE'}"
        )
    keys = sealing.keys.keys_for({UUID(s[SEALED_UNDER]) for s in sealed})

    def text(value: dict[str, Any]) -> str:
        subject, ciphertext = UUID(value[SEALED_UNDER]), value["ciphertext"]
        key = keys.get(subject)
        if ciphertext is None or key is None:
            return str(Erased(subject))
        return unsealed(key, subject, ciphertext)

    def replaced(value: Any) -> Any:
        if isinstance(value, list):
            return [replaced(item) for item in value]
        if not isinstance(value, dict):
            return value
        if SEALED_UNDER in value:
            return text(value)
        return {name: replaced(item) for name, item in value.items()}

    return replaced(found)
