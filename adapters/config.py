"""Configuration from the environment, and how it becomes eventsourcing settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from domain.errors import NotConfigured

DEFAULT_DATABASE_URL = "sqlite:///bewijslast.db"
DEFAULT_ORIGIN = "bewijslast.localhost/ledger"
APPLICATION_NAME = "Bewijslast"


class ConfigurationError(NotConfigured):
    """A setting is missing or wrong; the message says which and how to fix it."""


def not_configured(e: BaseException) -> NotConfigured | None:
    """``e`` itself, or what it was raised from, when that is a missing setting: the event
    store library wraps what a transcoding raises (e.g. personal data without the master key)."""
    cause: BaseException | None = e
    while cause is not None:
        if isinstance(cause, NotConfigured):
            return cause
        cause = cause.__cause__
    return None


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    origin: str = DEFAULT_ORIGIN
    signing_key_file: Path | None = None
    master_key_file: Path | None = None
    # Beside the key by default; elsewhere when the key's folder is read-only (container
    # secrets), but never in the database: it is how a rolled-back database is noticed.
    checkpoint_state_file: Path | None = None

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, *, database: str | None = None
    ) -> Settings:
        env = os.environ if environ is None else environ
        key = env.get("BEWIJSLAST_SIGNING_KEY_FILE")
        master = env.get("BEWIJSLAST_MASTER_KEY_FILE")
        state = env.get("BEWIJSLAST_CHECKPOINT_STATE_FILE")
        return cls(
            database_url=database or env.get("BEWIJSLAST_DATABASE_URL") or DEFAULT_DATABASE_URL,
            origin=env.get("BEWIJSLAST_ORIGIN") or DEFAULT_ORIGIN,
            signing_key_file=Path(key) if key else None,
            master_key_file=Path(master) if master else None,
            checkpoint_state_file=Path(state) if state else None,
        )

    def eventsourcing_env(self) -> dict[str, str]:
        return database_env(self.database_url)


def database_env(url: str) -> dict[str, str]:
    """eventsourcing settings for a ``sqlite:///path`` or ``postgresql://...`` URL."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        # sqlite:///relative.db and sqlite:////absolute.db, as in SQLAlchemy.
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise ConfigurationError(f"database URL {url!r} names no file: sqlite:///path.db")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "adapters.persistence.sqlite:LedgerSQLiteFactory",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    if parts.scheme in ("postgresql", "postgres"):
        if not parts.hostname or not parts.path.strip("/"):
            raise ConfigurationError(
                f"database URL {_redact(url)!r} needs a host and a database name"
            )
        query = parse_qs(parts.query)
        env = {
            "PERSISTENCE_MODULE": "adapters.persistence.postgres:LedgerPostgresFactory",
            "POSTGRES_DBNAME": unquote(parts.path.strip("/")),
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": query.get("schema", ["public"])[0],
            # Also how long a request waits for a pooled connection: a database that is down
            # is a 503 within seconds, not after the library's 30 s.
            "POSTGRES_CONNECT_TIMEOUT": query.get("connect_timeout", ["2"])[0],
        }
        if query.get("create_table", ["yes"])[0] in ("no", "false", "0"):
            env["CREATE_TABLE"] = "no"
        return env
    raise ConfigurationError(
        f"database URL {_redact(url)!r} is neither sqlite:///path nor postgresql://..."
    )


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
