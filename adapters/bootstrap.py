"""The composition root: builds the application and what the adapters hang on it (the subject
key store, the signer, the checkpointer, the witnesses, the API keys), from the settings.

Every entry point (the ``bewijslast`` command, ``serve``, the relay) starts here; what it
builds is handed down, so that no service reads settings or builds another.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.config import ConfigurationError, Settings
from adapters.persistence.api_keys import ApiKeys
from adapters.persistence.key_files import MASTER, SIGNING, KeyFiles, fingerprint, key_files_of
from adapters.persistence.personal_data import (
    ErasedAsSubject,
    PersonalDataAsCiphertext,
    PersonalDataWithoutMasterKey,
)
from adapters.persistence.sqldb import Database
from adapters.persistence.stores import datastore_of, ledger_of
from adapters.persistence.subject_keys import MasterKey, open_key_store
from adapters.retention_table import load_retention_schedule
from adapters.services.accountability_report import report_digests
from adapters.services.checkpointer import Checkpointer, state_file_for
from adapters.services.cosigning import Cosigning, cosigning_for
from adapters.services.projection_runner import retention_candidates_of, subject_owners
from adapters.signing_keys import load_signer
from adapters.term_calendar import load_term_calendar
from domain.application import Bewijslast
from ledger.note import NoteSigner


def open_application(settings: Settings) -> Bewijslast:
    """The application with what the adapters hold: the subject key store and the signer,
    when configured; a checkpoint is then signed right after every decision event."""
    calendar = load_term_calendar(settings.equated_days_file)
    if settings.master_key_file is None:
        without = PersonalDataWithoutMasterKey(lambda: master_key_advice(settings))
        app = Bewijslast(
            env=settings.eventsourcing_env(),
            transcodings=[without, ErasedAsSubject()],
            term_calendar=calendar,
        )
    else:
        keys = open_key_store(settings.database_url, MasterKey.from_file(settings.master_key_file))
        app = Bewijslast(
            env=settings.eventsourcing_env(),
            transcodings=[PersonalDataAsCiphertext(keys), ErasedAsSubject()],
            shred=keys.destroy,
            term_calendar=calendar,
        )
        app.subject_owner = subject_owners(app)
        app.retention = load_retention_schedule()
        app.retention_candidates = retention_candidates_of(app)
    if settings.signing_key_file is not None:
        app.on_decision = checkpointer_for(settings, app).signed_size
        app.report_digest = report_digests(app)
    return app


def master_key_advice(settings: Settings) -> str:
    """Which file holds the master key the data here was recorded under, and where to name
    it; a new master key only when nothing was recorded under one."""
    where = settings.where("BEWIJSLAST_MASTER_KEY_FILE")
    files = key_files_of(settings.database_url)
    recorded = {} if files is None else files.recorded(MASTER)
    if recorded:
        newest = list(recorded.values())[-1]
        return f"the data here was recorded under the master key in {newest}: {where} to that file"
    if files is not None and files.count("subject_keys"):
        return (
            f"the data here was recorded under a master key whose file this database does not "
            f"name: {where} to that file (a new master key cannot open it)"
        )
    return f"{where} (make one with 'bewijslast init' or 'bewijslast keys master')"


def signing_key(settings: Settings) -> NoteSigner | None:
    """The ledger's signing key, when one is configured."""
    if settings.signing_key_file is None:
        return None
    return load_signer(settings.signing_key_file, settings.origin)


def checkpointer_for(
    settings: Settings, app: Bewijslast, cosigning: Cosigning | None = None
) -> Checkpointer:
    """The checkpointer; its new checkpoints go to the configured witnesses (``cosigning``,
    or those of BEWIJSLAST_WITNESSES_FILE)."""
    ledger = ledger_of(app)
    key_files = KeyFiles(Database(datastore_of(app)))
    key_file = settings.signing_key_file
    if key_file is None:
        where = settings.where("BEWIJSLAST_SIGNING_KEY_FILE")
        signed = ledger.latest_signed_checkpoint() is not None
        recorded = key_files.recorded(SIGNING) if signed else {}
        if recorded:
            raise ConfigurationError(
                f"no signing key: the ledger's checkpoints are signed with the key in "
                f"{list(recorded.values())[-1]}: {where} to that file"
            )
        if signed:
            raise ConfigurationError(
                f"no signing key: {where} to the file of the key that signed the ledger's "
                "checkpoints (a new key would not continue them)"
            )
        raise ConfigurationError(
            f"no signing key: {where} (make one with 'bewijslast init' or "
            "'bewijslast keys generate')"
        )
    signer = load_signer(key_file, settings.origin)
    key_files.record(SIGNING, fingerprint(SIGNING, signer.vkey().encode()), key_file)
    cosigning = cosigning or cosigning_for(settings, ledger)
    return Checkpointer(
        ledger,
        signer,
        state_file=settings.checkpoint_state_file or state_file_for(key_file),
        on_signed=None if cosigning is None else cosigning.collect,
    )


def signer_of(settings: Settings, app: Bewijslast) -> Callable[[], str] | None:
    """Signs a checkpoint now and returns it, when a signing key is configured."""
    if settings.signing_key_file is None:
        return None
    checkpointer = checkpointer_for(settings, app)
    return lambda: checkpointer.checkpoint()[1]


def api_keys_of(app: Bewijslast) -> ApiKeys:
    """The API keys, kept beside the ledger."""
    return ApiKeys(datastore_of(app))
