"""docker-compose.yml and the Dockerfile, checked where no Docker engine runs: the compose
file against the Compose Specification, every service's command against the real CLI parser,
every environment variable against the code that reads it, every secret against its
declaration, and the image against its rules (the CLI as entrypoint, not root, no keys).

``tests/vendor/compose-spec.json`` is the Compose Specification's JSON schema (from the
compose-spec project, Apache-2.0: ``LICENSE.compose-spec`` beside it) as vendored by the PyPI
package check-jsonschema 0.39.0, file ``check_jsonschema/builtin_schemas/vendor/compose-spec.json``
(fetched with ``pip download check-jsonschema==0.39.0``). Its SHA-256 is checked below, so an
update is a deliberate act.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import shlex
import signal
import tomllib
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import psycopg
import pytest
import yaml

from adapters.config import Settings
from adapters.entrypoints.cli.main import build_parser
from adapters.services.projection_runner import SCHEMA
from tests.test_serve import api_key, make_operator, report_incident, serving

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "tests" / "vendor" / "compose-spec.json"
SPEC_SHA256 = "d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64"
IMAGE = "bewijslast:latest"
SECRETS = "/run/secrets/"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def ours(services) -> dict[str, dict[str, Any]]:
    """The services that run the bewijslast image."""

    def image(service: dict[str, Any]) -> str:
        # ``${NAME:-default}``: as compose fills it in when NAME is not set.
        return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(service.get("image", "")))

    return {name: s for name, s in services.items() if image(s) == IMAGE}


def environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment, with ``${NAME:?message}`` and ``${NAME:-default}`` filled
    in as compose would (unset but for the origin)."""
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    filled = {"BEWIJSLAST_ORIGIN": "ledger.leusden.test/bewijslast"}
    return {
        key: re.sub(
            r"\$\{(\w+)(?::-([^}]*))?[^}]*\}",
            lambda m: filled.get(m.group(1)) or m.group(2),
            str(value),
        )
        for key, value in env.items()
    }


# --- the compose file ------------------------------------------------------------------------


def test_the_compose_file_follows_the_compose_specification(compose):
    assert hashlib.sha256(SPEC.read_bytes()).hexdigest() == SPEC_SHA256
    schema = json.loads(SPEC.read_text())
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(schema).iter_errors(compose)
    ]
    assert errors == []


def test_the_schema_would_catch_a_mistake(compose):
    """The validation above is not vacuous."""
    schema = json.loads(SPEC.read_text())
    wrong = json.loads(json.dumps(compose))
    wrong["services"]["api"]["depends_on"]["projector"]["condition"] = "service_ready"
    wrong["services"]["relay"]["healthcheck"]["intervall"] = "5s"
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert len(list(validator.iter_errors(wrong))) >= 2


def test_it_has_the_database_the_broker_and_every_part(services):
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3")
    assert set(ours(services)) == {"migrate", "api", "relay", "projector", "witness"}


def test_every_service_runs_a_command_the_real_cli_accepts(compose, services):
    parser = build_parser()
    parsed = {}
    for name in ours(services):
        argv = service_argv(compose, name)
        try:
            parsed[name] = parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"{name}: 'bewijslast {' '.join(argv)}' is not a command of the CLI")
    assert parsed["migrate"].command == "db"
    assert parsed["migrate"].role == "bewijslast_app"
    assert parsed["projector"].command == "project"
    assert parsed["projector"].follow
    assert parsed["relay"].command == "relay"
    api = parsed["api"]
    assert api.command == "serve"
    # The projector and the relay are services of their own: the API must not run them too.
    assert api.no_projections
    assert api.no_relay
    assert api.host == "0.0.0.0"
    assert api.interval == 60  # BEWIJSLAST_CHECKPOINT_INTERVAL shortens it, in tests
    # The API on more than one core; a variable, not a flag, which an older image ignores.
    assert (
        services["api"]["environment"]["BEWIJSLAST_API_WORKERS"] == "${BEWIJSLAST_API_WORKERS:-2}"
    )
    health = " ".join(services["api"]["healthcheck"]["test"])
    assert f"127.0.0.1:{api.port}/health" in health
    assert any(p.endswith(f":{api.port}") for p in services["api"]["ports"])


def test_every_bewijslast_variable_in_the_compose_file_is_read_by_the_code(services):
    read = variables_the_code_reads()
    for name, service in services.items():
        named = {key for key in environment(service) if key.startswith("BEWIJSLAST_")}
        assert named <= read, f"{name} sets variables no code reads: {named - read}"
    # What the app services receive from their env file (not in the repository: secrets).
    assert {"BEWIJSLAST_DATABASE_URL", "BEWIJSLAST_BROKER_URL"} <= read


def variables_the_code_reads() -> set[str]:
    """Every string constant in adapters/ that is a variable name, as in
    ``env.get("BEWIJSLAST_ORIGIN")`` or ``BROKER_URL = "BEWIJSLAST_BROKER_URL"``."""
    names = set()
    for path in (ROOT / "adapters").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and re.fullmatch(
                r"BEWIJSLAST_[A-Z_]+", str(node.value)
            ):
                names.add(node.value)
    return names


def test_the_api_gets_its_keys_from_secrets_and_its_state_from_a_volume(services):
    api = services["api"]
    settings = Settings.from_environ(environment(api))
    assert settings.origin == "ledger.leusden.test/bewijslast"
    assert settings.signing_key_file == Path(SECRETS + "signing_key")
    assert settings.master_key_file == Path(SECRETS + "master_key")
    state = settings.checkpoint_state_file
    assert state is not None
    assert not str(state).startswith(SECRETS)  # read-only there
    mounts = [v.split(":")[1] for v in api["volumes"]]
    assert str(state.parent) in mounts
    # A new named volume takes the owner of the folder it is mounted over: the image must make
    # that folder, owned by its user, or the checkpointer could not write its state.
    assert any(
        op == "RUN" and f"install -d -o 10001 -g 10001 -m 700 {state.parent}" in args
        for op, args in dockerfile()
    )


def test_the_witness_has_its_own_key_store_and_volume_and_the_api_asks_it(services):
    witness, api = services["witness"], services["api"]
    env = environment(witness)
    assert env["BEWIJSLAST_WITNESS_KEY_FILE"].startswith(SECRETS)
    store = Path(env["BEWIJSLAST_WITNESS_STORE"])
    [mount] = witness["volumes"]
    volume, folder = mount.split(":")
    assert str(store.parent) == folder
    assert volume not in {v.split(":")[0] for v in api["volumes"]}
    assert "signing_key" not in witness["secrets"]
    assert Settings.from_environ(environment(api)).witnesses_file == Path(SECRETS + "witnesses")


def test_every_secret_is_declared_and_mounted_where_a_variable_points(compose, services):
    declared = compose["secrets"]
    for name, service in services.items():
        mounted = {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}
        assert mounted <= set(declared), f"{name} uses undeclared secrets"
        for key, value in environment(service).items():
            if value.startswith(SECRETS):
                assert value.removeprefix(SECRETS) in mounted, f"{name}: {key} points nowhere"
    for name, secret in declared.items():
        # Files kept out of the image, and of the repository.
        assert secret["file"].startswith("./secrets/"), name
    assert "secrets/" in (ROOT / ".dockerignore").read_text().split()
    assert "/secrets/" in (ROOT / ".gitignore").read_text().split()


def test_services_wait_for_what_they_need_and_are_watched(compose, services):
    one_shot = {name for name, s in services.items() if s.get("restart") == "no"}
    assert one_shot == {"migrate"}
    volumes = set(compose["volumes"])
    for name, service in services.items():
        if name not in one_shot:
            assert service["restart"] == "unless-stopped", name
            assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        for needed, how in service.get("depends_on", {}).items():
            wanted = "service_completed_successfully" if needed in one_shot else "service_healthy"
            assert how["condition"] == wanted, f"{name} on {needed}"
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in volumes, f"{name}: {volume}"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "rabbitmq" in services["relay"]["depends_on"]


def test_the_projectors_health_is_its_read_models(services):
    health = " ".join(services["projector"]["healthcheck"]["test"])
    assert f"{SCHEMA}.projection_positions" in health


# --- the image -------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_image_runs_the_tested_cli_as_a_user_without_keys():
    instructions = dockerfile()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    entrypoints = [json.loads(args) for op, args in instructions if op == "ENTRYPOINT"]
    assert entrypoints == [["bewijslast"]]  # exec form: signals reach the process
    assert pyproject["project"]["scripts"]["bewijslast"] == "adapters.entrypoints.cli.main:main"
    cmd = next(json.loads(args) for op, args in instructions if op == "CMD")
    assert build_parser().parse_args(cmd).command == "serve"

    users = [args for op, args in instructions if op == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")

    assert any(op == "RUN" and "pip install ." in args for op, args in instructions)
    # The dependencies at the versions CI tested (tests/test_lock.py keeps the lock current).
    assert any(
        op == "RUN" and "pip install -c requirements.lock -r dependencies.txt" in args
        for op, args in instructions
    )
    copied = [
        source
        for op, args in instructions
        if op in ("COPY", "ADD")
        for source in args.split()[:-1]
        if not source.startswith("--")
    ]
    assert "." not in copied  # the build context as a whole could hold keys
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not re.search(r"secret|\.key$|\.vkey$|keys|\.db$", source), source
    # Everything the package is built from and the lock it is installed with, nothing else.
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert set(copied) == {
        "pyproject.toml",
        "requirements.lock",
        pyproject["project"]["readme"],
        *packages,
    }
    assert not any(op == "ENV" and "KEY" in args for op, args in instructions)


def test_the_build_context_leaves_keys_and_databases_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in ("secrets/", "demo-keys/", "**/*.key", "**/*.db", ".git/"):
        assert pattern in ignored


# --- the roles, on a real PostgreSQL -------------------------------------------------------


def app_role_sql(compose: dict[str, Any], role: str, password: str, database: str) -> list[str]:
    """The statements of the compose file's init script, with psql's variables filled in."""
    script = compose["configs"]["app-role"]["content"]
    body = script.split("<<'SQL'\n", 1)[1].rsplit("SQL\n", 1)[0]
    body = body.replace(":'password'", "'" + password.replace("'", "''") + "'")
    body = body.replace(':"db"', f'"{database}"').replace("bewijslast_app", role)
    return [s.strip() for s in body.split(";") if s.strip()]


@pytest.mark.long
@pytest.mark.postgres
def test_the_services_run_as_the_compose_file_sets_up_the_roles(compose, pg_database, tmp_path):
    """The init script's role; `migrate` as the owner; the projector's and the API's commands
    as the application role, which may not change ledger rows; SIGTERM, and all is signed."""
    operator = make_operator(tmp_path)
    role, password = f"app_{uuid.uuid4().hex[:8]}", "pass'word"
    with psycopg.connect(pg_database.url, autocommit=True) as conn:
        for statement in app_role_sql(compose, role, password, pg_database.name):
            conn.execute(statement)
    try:
        operator.env["BEWIJSLAST_DATABASE_URL"] = pg_database.url
        migrated = operator.run(*service_argv(compose, "migrate")[:-1], role)
        assert migrated.returncode == 0, migrated.stderr

        app_url = (
            f"postgresql://{role}:{quote(password)}@{pg_database.host}:{pg_database.port}/"
            f"{pg_database.name}?create_table=no"
        )
        operator.env["BEWIJSLAST_DATABASE_URL"] = app_url
        projected = operator.run("project")
        assert projected.returncode == 0, projected.stderr
        headers = api_key(operator, "EMPLOYEE:Leusden")
        with serving(operator, *service_argv(compose, "api")[1:]) as served:
            report_incident(served, headers)
            assert served.stop(signal.SIGTERM) == 0, served.output()

        verified = operator.run("verify", "--database", app_url, "--vkey", str(operator.vkey))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # The API left the read models to the projector.
        assert "incident_register: 1 new events" in operator.run("project").stdout
        with (
            psycopg.connect(app_url.split("?")[0], autocommit=True) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute("DELETE FROM bewijslast_events")
    finally:
        with psycopg.connect(pg_database.url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


def service_argv(compose: dict[str, Any], name: str) -> list[str]:
    """The service's command, with ``${NAME:-default}`` filled in as compose does when NAME is
    not set."""
    command = compose["services"][name]["command"]
    argv = shlex.split(command) if isinstance(command, str) else command
    return [re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", arg) for arg in argv]
