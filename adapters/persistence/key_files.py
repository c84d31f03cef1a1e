"""Which key files a database's data was recorded under, so that a missing or wrong key is
answered with the file that holds the right one, never with advice to make a new key: a new
master key opens none of the subject keys already wrapped, a new signing key continues none
of the checkpoints already signed.

Only the file's path and a fingerprint are kept (a hash that reveals nothing of the key),
outside the ledger, on the application's own database.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from adapters.config import database_env
from adapters.persistence.keys import KeyFiles
from adapters.persistence.sqldb import Database

MASTER, SIGNING = "master", "signing"


def fingerprint(kind: str, key: bytes) -> str:
    return hashlib.sha256(f"bewijslast {kind} key id\0".encode() + key).hexdigest()[:32]


def datastore_for(database_url: str) -> SQLiteDatastore | PostgresDatastore:
    """A datastore of its own on the application's database."""
    env = database_env(database_url)
    if "SQLITE_DBNAME" in env:
        return SQLiteDatastore(env["SQLITE_DBNAME"], lock_timeout=30)
    return PostgresDatastore(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        schema=env["POSTGRES_SCHEMA"],
    )


def key_files_of(database_url: str) -> KeyFiles | None:
    """The database's key files; None when there is no database yet (nothing was recorded,
    and a SQLite file is not made just to look)."""
    env = database_env(database_url)
    if "SQLITE_DBNAME" in env and not Path(env["SQLITE_DBNAME"]).exists():
        return None
    return KeyFiles(Database(datastore_for(database_url)))
