"""Configuration: the file ``bewijslast.toml`` (written by ``bewijslast init``), the
environment over it, a command's flags over both; and how it becomes eventsourcing settings."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel, ValidationError

from domain.errors import NotConfigured
from domain.organisation import DeclareOrganisation

DEFAULT_DATABASE_URL = "sqlite:///bewijslast.db"
DEFAULT_ORIGIN = "bewijslast.localhost/ledger"
# The NL GOV CloudEvents profile names a source by the organisation's OIN (Logius's register
# of organisation numbers) and the system; twenty zeros until the deployment says its own.
DEFAULT_EVENT_SOURCE = "urn:nld:oin:00000000000000000000:systeem:bewijslast"
EVENT_SOURCE = re.compile(r"urn:nld:oin:[0-9]{20}:systeem:[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
CONFIG_FILE = "bewijslast.toml"
CONFIG_ENV = "BEWIJSLAST_CONFIG"
# The file's settings and the environment variables that win over them.
FILE_SETTINGS = {
    "database": "BEWIJSLAST_DATABASE_URL",
    "origin": "BEWIJSLAST_ORIGIN",
    "signing_key_file": "BEWIJSLAST_SIGNING_KEY_FILE",
    "master_key_file": "BEWIJSLAST_MASTER_KEY_FILE",
    "checkpoint_state_file": "BEWIJSLAST_CHECKPOINT_STATE_FILE",
    # Decree days (Atw art. 3(3)) beyond the repository's table.
    "equated_days_file": "BEWIJSLAST_EQUATED_DAYS_FILE",
}


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
    equated_days_file: Path | None = None
    event_source: str = DEFAULT_EVENT_SOURCE  # CloudEvents ``source`` of what the bus carries
    # The file these settings were read from, if any, and the organisation it declares.
    config_file: Path | None = None
    organisation: DeclareOrganisation | None = None

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        database: str | None = None,
        config_file: Path | None = None,
    ) -> Settings:
        """``config_file`` is read when it exists; the environment wins over it, ``database``
        (a command's ``--database``) over both."""
        env = os.environ if environ is None else environ
        found = config_file is not None and config_file.exists()
        file = read_config(config_file) if found and config_file is not None else {}

        def setting(name: str) -> str | None:
            return env.get(FILE_SETTINGS[name]) or file.get(name)

        key, master = setting("signing_key_file"), setting("master_key_file")
        state, equated = setting("checkpoint_state_file"), setting("equated_days_file")
        witnesses = env.get("BEWIJSLAST_WITNESSES_FILE")
        source = env.get("BEWIJSLAST_EVENT_SOURCE") or DEFAULT_EVENT_SOURCE
        if not EVENT_SOURCE.match(source):
            raise ConfigurationError(
                f"BEWIJSLAST_EVENT_SOURCE {source!r} is not urn:nld:oin:<20-digit OIN>:systeem:"
                "<name> (NL GOV CloudEvents profile)"
            )
        return cls(
            database_url=database or setting("database") or DEFAULT_DATABASE_URL,
            origin=setting("origin") or DEFAULT_ORIGIN,
            signing_key_file=Path(key) if key else None,
            master_key_file=Path(master) if master else None,
            checkpoint_state_file=Path(state) if state else None,
            witnesses_file=Path(witnesses) if witnesses else None,
            equated_days_file=Path(equated) if equated else None,
            event_source=source,
            config_file=config_file if found else None,
            organisation=file.get("organisation"),
        )

    def where(self, variable: str) -> str:
        """How to set a setting: the variable, and the file when there is one."""
        name = next(n for n, v in FILE_SETTINGS.items() if v == variable)
        if self.config_file is None:
            return f"set {variable}"
        return f"set {name} in {self.config_file} or {variable}"

    def eventsourcing_env(self) -> dict[str, str]:
        return database_env(self.database_url)


def config_file_from(environ: Mapping[str, str] | None = None) -> Path:
    """The configuration file: ``BEWIJSLAST_CONFIG``, else ``bewijslast.toml`` here."""
    env = os.environ if environ is None else environ
    return Path(env.get(CONFIG_ENV) or CONFIG_FILE)


Table = TypeVar("Table", bound=BaseModel)


def read_table(text: str, source: str, table: type[Table]) -> Table:
    """A data file of the repository or the deployment (TOML) as its typed table; a file
    that does not parse or fit says where, in ``source``."""
    try:
        return table.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as e:
        raise ConfigurationError(f"cannot read {source}: {e}") from None
    except ValidationError as e:
        problem = e.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise ConfigurationError(f"{source}: {where}: {problem['msg']}") from None


def read_config(path: Path) -> dict[str, Any]:
    """The file's settings, paths made relative to the file's folder; its organisation as the
    command that declares it. Unknown keys are refused, so a typo does not pass silently."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigurationError(f"cannot read {path}: {e}") from None
    allowed = {*FILE_SETTINGS, "municipalities", "fg"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigurationError(
            f"{path}: unknown setting {unknown[0]!r}; there are: {', '.join(sorted(allowed))}"
        )
    settings: dict[str, Any] = {}
    for name in FILE_SETTINGS:
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"{path}: {name} must be a non-empty string")
        settings[name] = _beside(path, name, value)
    if "municipalities" in data or "fg" in data:
        try:
            settings["organisation"] = DeclareOrganisation.model_validate(
                {"municipalities": data.get("municipalities", []), "fg": data.get("fg")}
            )
        except ValidationError as e:
            problem = e.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise ConfigurationError(f"{path}: {where}: {problem['msg']}") from None
    return settings


def _beside(config: Path, name: str, value: str) -> str:
    """A relative file in the configuration is relative to the configuration's folder."""
    folder = config.parent
    if name.endswith("_file"):
        return str(folder / value) if not Path(value).is_absolute() else value
    if (
        name == "database"
        and value.startswith("sqlite:///")
        and not value.startswith("sqlite:////")
    ):
        relative = value.removeprefix("sqlite:///")
        if relative != ":memory:":
            return f"sqlite:///{folder / relative}"
    return value


def write_config(path: Path, settings: Settings, organisation: DeclareOrganisation | None) -> None:
    """``bewijslast init``'s file: the settings as given, the organisation as declared."""
    quoted = json.dumps  # a JSON string is a TOML basic string
    lines = [
        "# Bewijslast configuration (bewijslast init). The environment variables",
        "# BEWIJSLAST_DATABASE_URL, _ORIGIN, _SIGNING_KEY_FILE and _MASTER_KEY_FILE win over it,",
        "# a command's --database over both. Relative paths are relative to this file.",
        f"database = {quoted(_database_beside(path, settings.database_url))}",
        f"origin = {quoted(settings.origin)}",
    ]
    for name in ("signing_key_file", "master_key_file", "checkpoint_state_file"):
        value = getattr(settings, name)
        if value is not None:
            lines.append(f"{name} = {quoted(_relative(path, value))}")
    if organisation is not None:
        lines += ["", "# The organisation: declared once, recorded in the ledger."]
        for town in organisation.municipalities:
            lines += [
                "",
                "[[municipalities]]",
                f"name = {quoted(town.name)}",
                f"controllers = [{', '.join(quoted(c) for c in town.controllers)}]",
            ]
            if town.contact is not None:
                lines.append(f"contact = {quoted(town.contact)}  # art. 30(1)(a) AVG")
        if organisation.fg is not None:
            fg = organisation.fg
            lines += [
                "",
                "[fg]  # art. 37(7) AVG: the FG's name and contact",
                f"name = {quoted(fg.name)}",
                f"contact = {quoted(fg.contact)}",
                f"municipalities = [{', '.join(quoted(m) for m in fg.municipalities)}]",
            ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _database_beside(config: Path, url: str) -> str:
    """A SQLite file relative to the configuration's folder, as ``_beside`` reads it back."""
    env = database_env(url)
    name = env.get("SQLITE_DBNAME")
    if name is None or name == ":memory:":
        return url
    return f"sqlite:///{_relative(config, Path(name))}"


def _relative(config: Path, file: Path) -> str:
    try:
        return str(file.resolve().relative_to(config.resolve().parent))
    except ValueError:
        return str(file.resolve())


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
                f"database URL {redact(url)!r} needs a host and a database name"
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
        f"database URL {redact(url)!r} is neither sqlite:///path nor postgresql://..."
    )


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 600 unless it exists: SQLite would create it with the
    umask's mode (often 644), and gives its WAL and shared-memory files the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL (None for PostgreSQL)."""
    env = database_env(url)
    return Path(env["SQLITE_DBNAME"]) if "SQLITE_DBNAME" in env else None


def redact(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
