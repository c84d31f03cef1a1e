"""Stores ``PersonalData`` only as AES-256-GCM ciphertext under the subject's own key."""

from __future__ import annotations

import base64
import os
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Transcoding

from adapters.config import ConfigurationError
from adapters.keystore import NONCE_SIZE, SubjectKeyStore
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
        return PersonalData(subject, value.decode(), sealed=data["ciphertext"])


class ErasedAsSubject(Transcoding):
    """An aggregate may carry ``Erased`` values into later events or snapshots."""

    type = Erased
    name = "erased"

    def encode(self, obj: Erased) -> str:
        return obj.subject.hex

    def decode(self, data: str) -> Erased:
        return Erased(UUID(data))


class PersonalDataWithoutMasterKey(Transcoding):
    """Without the master key personal data can be neither sealed nor opened: say so, rather
    than fail on an unknown type deep inside the library."""

    type = PersonalData
    name = "personal_data"

    def encode(self, obj: PersonalData) -> dict[str, str]:
        raise MasterKeyMissing("cannot record personal data")

    def decode(self, data: dict[str, Any]) -> PersonalData:
        raise MasterKeyMissing("the ledger holds personal data, sealed per data subject")


def opened(app: Bewijslast, found: Any) -> Any:
    """A read model's answer with every sealed text opened (``[gewist]`` once its key is gone),
    as it is shown; read models themselves hold only ciphertext."""
    if isinstance(found, list):
        return [opened(app, item) for item in found]
    if not isinstance(found, dict):
        return found
    if SEALED_UNDER not in found:
        return {name: opened(app, value) for name, value in found.items()}
    ciphertext = found["ciphertext"]
    if ciphertext is None:
        return str(Erased(UUID(found[SEALED_UNDER])))
    sealing = next((t for t in app.extra_transcodings if t.type is PersonalData), None)
    if sealing is None:
        sealing = PersonalDataWithoutMasterKey()
    text = sealing.decode({"subject": UUID(found[SEALED_UNDER]).hex, "ciphertext": ciphertext})
    return text.value if isinstance(text, PersonalData) else str(text)


class MasterKeyMissing(ConfigurationError):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what}: set BEWIJSLAST_MASTER_KEY_FILE to the master key file "
            "(make one with 'bewijslast keys master')"
        )
