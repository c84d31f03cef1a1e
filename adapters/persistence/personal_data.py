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
from adapters.keystore import NONCE_SIZE, SubjectKeyStore
from domain.personal_data import Erased, PersonalData


class PersonalDataAsCiphertext(Transcoding):
    type = PersonalData
    name = "personal_data"

    def __init__(self, keys: SubjectKeyStore) -> None:
        self.keys = keys

    def encode(self, obj: PersonalData) -> dict[str, str]:
        key = self.keys.key_for(obj.subject, create=True)
        assert key is not None
        nonce = os.urandom(NONCE_SIZE)
        # The subject id is authenticated, so ciphertext cannot be moved to another subject.
        sealed = AESGCM(key).encrypt(nonce, obj.value.encode(), obj.subject.bytes)
        return {"subject": obj.subject.hex, "ciphertext": base64.b64encode(nonce + sealed).decode()}

    def decode(self, data: dict[str, Any]) -> PersonalData | Erased:
        subject = UUID(data["subject"])
        key = self.keys.key_for(subject, create=False)
        if key is None:
            return Erased(subject)
        sealed = base64.b64decode(data["ciphertext"])
        value = AESGCM(key).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], subject.bytes)
        return PersonalData(subject, value.decode())


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
