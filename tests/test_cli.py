"""The CLI as operators and auditors script it: commands, files, messages and exit codes.

The export of the demo ledger is also checked by a verifier written here from nothing but
RFC 6962, C2SP signed-note and LEDGER.md, sharing no code with ``ledger/``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.conftest import DEMO_ORIGIN as ORIGIN
from tests.conftest import copy_demo

pytestmark = pytest.mark.long


def bewijslast(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters.entrypoints.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def operator_env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "BEWIJSLAST_ORIGIN": ORIGIN,
        "BEWIJSLAST_DATABASE_URL": f"sqlite:///{home / 'bewijslast.db'}",
        "BEWIJSLAST_SIGNING_KEY_FILE": str(home / "keys" / "ledger.key"),
        "BEWIJSLAST_MASTER_KEY_FILE": str(home / "keys" / "master.key"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }


@pytest.fixture
def operator(demo_folder, tmp_path):
    """A copy of the demo folder (recorded once for the whole run) of its own, so that a test
    may change it."""
    home = copy_demo(demo_folder, tmp_path / "operator")
    return home, operator_env(home)


def test_keys_are_written_private_and_public(tmp_path):
    env = operator_env(tmp_path)
    for command in (
        ("keys", "generate", "--origin", ORIGIN, "--out", "keys"),
        ("keys", "master", "--out", "keys/master.key"),
    ):
        done = bewijslast(*command, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
    key = tmp_path / "keys" / "ledger.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    vkey = (tmp_path / "keys" / "ledger.vkey").read_text().strip()
    assert vkey.startswith(ORIGIN + "+")


def test_a_key_is_never_overwritten(operator):
    home, env = operator
    again = bewijslast("keys", "generate", "--origin", ORIGIN, "--out", "keys", cwd=home, env=env)
    assert again.returncode == 2
    assert "never overwritten" in again.stderr


def test_the_demo_export_verifies_with_the_cli_and_with_the_standards_alone(operator):
    home, env = operator
    assert bewijslast("export", "--out", "bundle", cwd=home, env=env).returncode == 0
    result = bewijslast("verify", "bundle", "--vkey", "keys/ledger.vkey", cwd=home, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout
    independent_verify(home / "bundle", (home / "keys" / "ledger.vkey").read_text().strip())


def test_verify_on_the_live_database(operator):
    home, env = operator
    result = bewijslast(
        "verify",
        "--database",
        env["BEWIJSLAST_DATABASE_URL"],
        "--vkey",
        "keys/ledger.vkey",
        cwd=home,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_tampered_bundle_fails_with_exit_1_and_names_index_and_check(operator):
    home, env = operator
    bewijslast("export", "--out", "bundle", cwd=home, env=env)
    lines = (home / "bundle" / "entries.jsonl").read_text().splitlines()
    record = json.loads(lines[3])
    record["entry"]["topic"] = "domain.processing:ProcessingActivity.Retired"
    lines[3] = json.dumps(record)
    (home / "bundle" / "entries.jsonl").write_text("\n".join(lines) + "\n")
    result = bewijslast("verify", "bundle", "--vkey", "keys/ledger.vkey", cwd=home, env=env)
    assert result.returncode == 1
    assert "FAILED at index 3, check leaf-hash" in result.stdout
    assert "expected" in result.stdout
    assert "found" in result.stdout


def test_unreadable_input_exits_2(operator):
    home, env = operator
    result = bewijslast("verify", "nothing-here", "--vkey", "keys/ledger.vkey", cwd=home, env=env)
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_a_receipt_verifies_alone_and_a_forged_one_does_not(operator):
    home, env = operator
    made = bewijslast("receipt", "5", "--out", "r5.tlog-proof", cwd=home, env=env)
    assert made.returncode == 0, made.stderr
    ok = bewijslast("verify", "r5.tlog-proof", "--vkey", "keys/ledger.vkey", cwd=home, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    independent_verify_receipt(
        (home / "r5.tlog-proof").read_text(), (home / "keys" / "ledger.vkey").read_text().strip()
    )
    text = (home / "r5.tlog-proof").read_text().splitlines(keepends=True)
    text[2] = "index 6\n"
    (home / "r6.tlog-proof").write_text("".join(text))
    bad = bewijslast("verify", "r6.tlog-proof", "--vkey", "keys/ledger.vkey", cwd=home, env=env)
    assert bad.returncode == 1


def test_a_partial_zip_export_verifies(operator):
    home, env = operator
    made = bewijslast(
        "export",
        "--out",
        "part.zip",
        "--from",
        "4",
        "--to",
        "11",
        "--without-state",
        cwd=home,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    result = bewijslast("verify", "part.zip", "--vkey", "keys/ledger.vkey", cwd=home, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 receipts" in result.stdout


def test_a_missing_signing_key_is_a_clear_configuration_error(operator, demo_folder):
    home, env = operator
    env = {k: v for k, v in env.items() if k != "BEWIJSLAST_SIGNING_KEY_FILE"}
    elsewhere = home / "elsewhere"  # no bewijslast.toml there to name the key either
    elsewhere.mkdir()
    result = bewijslast("checkpoint", cwd=elsewhere, env=env)
    assert result.returncode == 2
    # The database names the key its checkpoints were signed with: in the demo's own folder,
    # of which this one is a copy.
    key = demo_folder / "keys" / "ledger.key"
    assert f"signed with the key in {key}: set BEWIJSLAST_SIGNING_KEY_FILE" in result.stderr


@pytest.mark.postgres
def test_a_login_the_database_refuses_is_said_at_once_in_its_words(tmp_path, pg_url):
    """Not the connection pool's "couldn't get a connection" after its timeout."""
    missing = f"{pg_url.rsplit('/', 1)[0]}/no_such_database"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = bewijslast(
        "db", "grant", "bewijslast_app", "--database", missing, cwd=tmp_path, env=env
    )
    assert result.returncode == 2, result.stderr
    assert "the database refuses the login in BEWIJSLAST_DATABASE_URL" in result.stderr
    assert 'database "no_such_database" does not exist' in result.stderr
    assert "couldn't get a connection" not in result.stderr


# --- an independent verifier: RFC 6962 + C2SP signed-note + LEDGER.md, nothing else ----------


def _mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def independent_verify(bundle: Path, vkey: str) -> None:
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    key = base64.b64decode(key_b64)
    assert key[0] == 1
    assert hashlib.sha256(name.encode() + b"\n" + key).digest()[:4].hex() == key_id_hex
    public = Ed25519PublicKey.from_public_bytes(key[1:])

    leaves, chain, streams = [], bytes(32), {}
    for i, line in enumerate((bundle / "entries.jsonl").read_text().splitlines()):
        record = json.loads(line)
        entry = record["entry"]
        assert entry["index"] == i
        assert entry["v"] == 1
        data = (
            b"bewijslast/entry/v1\n"
            + json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        )
        leaf = hashlib.sha256(b"\x00" + data).digest()
        assert leaf.hex() == record["leaf_hash"]
        chain = hashlib.sha256(chain + leaf).digest()
        assert chain.hex() == record["chain_hash"]
        assert (
            hashlib.sha256(base64.b64decode(record["state"])).hexdigest() == entry["state_sha256"]
        )
        assert entry["stream_prev"] == streams.get(entry["stream"])
        streams[entry["stream"]] = leaf.hex()
        leaves.append(leaf)

    notes = sorted((bundle / "checkpoints").iterdir())
    assert notes
    for path in notes:
        note = path.read_text()
        text, _, signatures = note.rpartition("\n\n")
        text += "\n"
        origin, size, root = text.splitlines()
        assert origin == name
        line = signatures.strip().splitlines()[0]
        assert line.startswith("\u2014 " + name + " ")
        blob = base64.b64decode(line.split(" ")[2])
        assert blob[:4].hex() == key_id_hex
        public.verify(blob[4:], text.encode())
        assert base64.b64decode(root) == _mth(leaves[: int(size)])


def independent_verify_receipt(receipt: str, vkey: str) -> None:
    """c2sp.org/tlog-proof with the RFC 9162 section 2.1.3.2 inclusion check, from scratch."""
    head, _, note = receipt.partition("\n\n")
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    entry_bytes = base64.b64decode(lines[1].removeprefix("extra "))
    index = int(lines[2].removeprefix("index "))
    path = [base64.b64decode(line) for line in lines[3:]]
    text, _, signature = note.rpartition("\n\n")
    text += "\n"
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    blob = base64.b64decode(signature.strip().split(" ")[2])
    assert blob[:4].hex() == key_id_hex
    Ed25519PublicKey.from_public_bytes(base64.b64decode(key_b64)[1:]).verify(
        blob[4:], text.encode()
    )
    origin, size, root = text.splitlines()
    assert origin == name
    assert json.loads(entry_bytes.split(b"\n", 1)[1])["index"] == index
    fn, sn = index, int(size) - 1
    r = hashlib.sha256(b"\x00" + entry_bytes).digest()
    for p in path:
        assert sn != 0
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    assert r == base64.b64decode(root)


def test_the_checkpointer_keeps_signing_while_entries_are_added(operator):
    home, env = operator
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.entrypoints.cli", "checkpoint", "--every", "0.2"],
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline() == ORIGIN + "\n"
        # Record more history without signing: only the running checkpointer can sign it.
        record = (
            "import dataclasses, pathlib; from adapters.bootstrap import open_application; "
            "from adapters.config import Settings; from adapters.demo import record_demo; "
            "settings = dataclasses.replace(Settings.from_environ(), signing_key_file=None, "
            "master_key_file=pathlib.Path('keys/master.key')); "
            "record_demo(open_application(settings))"
        )
        subprocess.run([sys.executable, "-c", record], cwd=home, env=env, check=True)
        with sqlite3.connect(home / "bewijslast.db") as conn:
            (size,) = conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()
        sizes: set[int] = set()
        deadline = time.monotonic() + 60
        while size not in sizes and time.monotonic() < deadline:
            time.sleep(0.1)
            with sqlite3.connect(home / "bewijslast.db") as conn:
                sizes = {row[0] for row in conn.execute("SELECT tree_size FROM ledger_checkpoints")}
        assert size in sizes
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0


def test_the_demo_records_every_kind_of_decision_and_signs_after_each(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEWIJSLAST_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    result = bewijslast("demo", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    for kind in (
        "Incident.ClassifiedNotABreach",
        "Incident.NotificationDecided",
        "Incident.APNotificationSubmitted",
        "Incident.APNotificationSupplemented",
        "Incident.APNotificationWithdrawn",
        "Incident.ReclassifiedNotABreach",
        "Incident.Evaluated",
        "FGAdvice.Answered",
        "RightsRequest.Extended",
        "RightsRequest.Suspended",
        "RightsRequest.ObjectionDecided",
        "RightsRequest.Withdrawn",
        "PersonalDataErasure.Erased",
        "ProcessingActivity.Retired",
        # seed 002 bijlage 3: the incident response team
        "Incident.IRTConvened",
        "Incident.IncidentAssessed",
        "Incident.CriminalActivityAssessed",
        "Incident.MayorConsulted",
        "Incident.AangifteFiled",
        "Incident.EvidenceRecorded",
        "Incident.EvidenceHandedOver",
        "Incident.PartyInformed",
        "Incident.TimeAndCostsRecorded",
        "Incident.SubjectsNotInformed",
        "Incident.AddressesCollected",
        "Incident.AddressesDestroyed",
        "DPIA.APConsultationExtended",
        "DPIA.APAnswered",
        "DPIA.MeasureCompleted",
        "DPIA.FGAssessed",
        "DPIA.Decided",
        "LegalHold.Placed",
        "LegalHold.Lifted",
        # bijlage 5 and the Awb
        "RightsRequest.NoticeOfDefaultReceived",
        "RightsRequest.LatenessExcused",
        "RightsRequest.HearingWaived",
        "RightsRequest.ObjectionTermExtended",
    ):
        assert kind in result.stdout
    assert "OK: every check" in result.stdout
    # One checkpoint after each save holding a decision event, and the demo's last one.
    decided = sum(
        int(line.split()[0])
        for line in result.stdout.splitlines()
        if line.strip().endswith(
            (
                "NotificationDecided",
                "APNotificationSubmitted",
                "APNotificationSupplemented",
                "APNotificationWithdrawn",
                "RightsRequest.Decided",
                "AangifteFiled",
                "SubjectsNotInformed",
                "DPIA.APConsulted",
                "DPIA.Decided",
                "LegalHold.Placed",
                "LegalHold.Lifted",
            )
        )
    )
    assert f"{decided + 1} checkpoints" in result.stdout


def test_retention_lists_what_is_held_and_a_run_finds_nothing_due_yet(operator):
    """The demo's stolen laptop in Leusden is under a legal hold; its file closed in 2024, so
    five years have not passed and a run records nothing."""
    home, env = operator
    held = bewijslast("retention", "held", "--municipality", "Leusden", cwd=home, env=env)
    assert held.returncode == 0, held.stderr
    (record,) = json.loads(held.stdout)
    assert record["record_type"] == "incident"
    assert record["hold"]["reasons"].startswith("aansprakelijkstelling")
    assert record["due_on"] is not None
    due = bewijslast("retention", "due", "--municipality", "Leusden", cwd=home, env=env)
    assert json.loads(due.stdout) == []
    run = bewijslast("retention", "run", "--municipality", "Leusden", cwd=home, env=env)
    assert run.returncode == 0, run.stderr
    assert "nothing is due" in run.stdout
    destroyed = bewijslast("retention", "destroyed", "--municipality", "Leusden", cwd=home, env=env)
    assert json.loads(destroyed.stdout) == []


def test_a_report_to_send_names_its_checkpoint_and_digest_and_rebuilds_alike(operator):
    """The FG builds its annual report to send; built again at the same checkpoint, in another
    process, it has the same digest, which is what recording it as sent names."""
    home, env = operator
    common = (
        "report", "--municipality", "Putten", "--controller",
        "college van burgemeester en wethouders", "--from", "2024-01-01", "--to", "2024-12-31",
        "--kind", "fg-annual-report", "--format", "json",
    )  # fmt: skip
    first = bewijslast(*common, "--out", "sent.json", cwd=home, env=env)
    assert first.returncode == 0, first.stderr
    sent = json.loads((home / "sent.json").read_text())
    assert sent["kind"] == "jaarverslag FG"
    assert len(sent["report_digest"]) == 64
    size = str(sent["checkpoint_size"])
    again = bewijslast(*common, "--checkpoint", size, "--out", "again.json", cwd=home, env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads((home / "again.json").read_text())["report_digest"] == sent["report_digest"]
    wrong = bewijslast(*common, "--checkpoint", "1", cwd=home, env=env)
    assert wrong.returncode == 2
    assert "no signed checkpoint has size 1" in wrong.stderr


def test_project_brings_the_register_up_and_rebuilds_it(operator):
    home, env = operator
    first = bewijslast("project", cwd=home, env=env)
    assert first.returncode == 0, first.stderr
    assert "processing_register: 69 new events" in first.stdout
    again = bewijslast("project", cwd=home, env=env)
    assert "processing_register: 0 new events" in again.stdout
    rebuilt = bewijslast("project", "--rebuild", "all", cwd=home, env=env)
    assert "processing_register: rebuilt from index 0, 69 events" in rebuilt.stdout
    unknown = bewijslast("project", "--rebuild", "nothing", cwd=home, env=env)
    assert unknown.returncode == 2
    assert "there are: processing_register" in unknown.stderr


def test_projecting_personal_data_without_the_master_key_says_what_to_set(operator, demo_folder):
    home, env = operator
    without = {k: v for k, v in env.items() if k != "BEWIJSLAST_MASTER_KEY_FILE"}
    elsewhere = home / "elsewhere"  # no bewijslast.toml there to name the key either
    elsewhere.mkdir()
    result = bewijslast("project", cwd=elsewhere, env=without)
    assert result.returncode == 2
    master = demo_folder / "keys" / "master.key"  # the file the data was recorded under
    assert f"master key in {master}: set BEWIJSLAST_MASTER_KEY_FILE to that file" in result.stderr
    assert "keys master" not in result.stderr
    assert "Traceback" not in result.stderr
