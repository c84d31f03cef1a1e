"""Configuration from the environment, and how it becomes eventsourcing settings."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from domain.errors import NotConfigured

DEFAULT_DATABASE_URL = "sqlite:///bewijslast.db"
DEFAULT_ORIGIN = "bewijslast.localhost/ledger"
# The NL GOV CloudEvents profile names a source by the organisation's OIN (Logius's register
# of organisation numbers) and the system; twenty zeros until the deployment says its own.
DEFAULT_EVENT_SOURCE = "urn:nld:oin:00000000000000000000:systeem:bewijslast"
EVENT_SOURCE = re.compile(r"urn:nld:oin:[0-9]{20}:systeem:[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
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
    # One witness per line, '<URL> <verifier key>': they cosign each new checkpoint.
    witnesses_file: Path | None = None
    event_source: str = DEFAULT_EVENT_SOURCE  # CloudEvents ``source`` of what the bus carries

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, *, database: str | None = None
    ) -> Settings:
        env = os.environ if environ is None else environ
        key = env.get("BEWIJSLAST_SIGNING_KEY_FILE")
        master = env.get("BEWIJSLAST_MASTER_KEY_FILE")
        state = env.get("BEWIJSLAST_CHECKPOINT_STATE_FILE")
        witnesses = env.get("BEWIJSLAST_WITNESSES_FILE")
        source = env.get("BEWIJSLAST_EVENT_SOURCE") or DEFAULT_EVENT_SOURCE
        if not EVENT_SOURCE.match(source):
            raise ConfigurationError(
                f"BEWIJSLAST_EVENT_SOURCE {source!r} is not urn:nld:oin:<20-digit OIN>:systeem:"
                "<name> (NL GOV CloudEvents profile)"
            )
        return cls(
            database_url=database or env.get("BEWIJSLAST_DATABASE_URL") or DEFAULT_DATABASE_URL,
            origin=env.get("BEWIJSLAST_ORIGIN") or DEFAULT_ORIGIN,
            signing_key_file=Path(key) if key else None,
            master_key_file=Path(master) if master else None,
            checkpoint_state_file=Path(state) if state else None,
            witnesses_file=Path(witnesses) if witnesses else None,
            event_source=source,
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
            private_file(Path(path))
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


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 600 unless it exists: SQLite would create it with the
    umask's mode (often 644), and gives its WAL and shared-memory files the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
