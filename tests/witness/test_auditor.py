"""The auditor's view: an export and a receipt of a municipality whose FG runs a witness pass
``verify --min-witnesses 1``; the export of a forked ledger signed with the same key fails."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.entrypoints.cli.main import main as bewijslast
from ledger.__main__ import main as ledger_main
from ledger.note import NoteVerifier
from tests.conftest import fresh_pg_database
from tests.witness.conftest import ORIGIN, RunningWitness

pytestmark = pytest.mark.long


@pytest.fixture(params=["sqlite", "postgres"])
def database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The municipality's database and the one its forked history is recorded in."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'real.db'}", f"sqlite:///{tmp_path / 'fork.db'}"
        return
    pg_url = request.getfixturevalue("pg_url")
    with fresh_pg_database(pg_url) as real, fresh_pg_database(pg_url) as fork:
        yield real.url, fork.url


def record(database: str, keys: Path, witnesses: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEWIJSLAST_DATABASE_URL", database)
    monkeypatch.setenv("BEWIJSLAST_ORIGIN", ORIGIN)
    monkeypatch.setenv("BEWIJSLAST_SIGNING_KEY_FILE", str(keys / "ledger.key"))
    monkeypatch.setenv("BEWIJSLAST_MASTER_KEY_FILE", str(keys / "master.key"))
    monkeypatch.setenv("BEWIJSLAST_WITNESSES_FILE", str(witnesses))
    assert bewijslast(["demo"]) == 0


def test_the_real_export_passes_the_witness_policy_and_a_forked_one_fails(
    database_urls, tmp_path, monkeypatch, capsys
):
    real, forked = database_urls
    # The demo writes its bewijslast.toml into the folder it runs in: a folder of this test's
    # own, so no other test (nor the other database) reads it.
    monkeypatch.chdir(tmp_path)
    keys = tmp_path / "keys"
    assert bewijslast(["keys", "generate", "--origin", ORIGIN, "--out", str(keys)]) == 0
    assert bewijslast(["keys", "master", "--out", str(keys / "master.key")]) == 0
    vkey = keys / "ledger.vkey"
    fg = RunningWitness(
        tmp_path / "fg.db",
        "fg.bunschoten.example/witness",
        [NoteVerifier.from_vkey(vkey.read_text().strip())],
    ).start()
    (tmp_path / "fg.vkey").write_text(fg.signer.vkey() + "\n")
    witnesses = tmp_path / "witnesses"
    witnesses.write_text(f"# the FG's witness\n{fg.url} {fg.signer.vkey()}\n")
    policy = ["--witness-vkey", str(tmp_path / "fg.vkey"), "--min-witnesses", "1"]

    record(real, keys, witnesses, monkeypatch)
    assert bewijslast(["export", "--out", str(tmp_path / "real.zip")]) == 0
    assert bewijslast(["receipt", "3", "--out", str(tmp_path / "3.tlog-proof")]) == 0
    capsys.readouterr()
    assert ledger_main(["verify", str(tmp_path / "real.zip"), "--vkey", str(vkey), *policy]) == 0
    out = capsys.readouterr().out
    assert f"cosigned by {fg.signer.name}" in out
    assert "OK: the witness policy of LEDGER.md section 7 holds" in out
    receipt = ["verify", str(tmp_path / "3.tlog-proof"), "--vkey", str(vkey), *policy]
    assert ledger_main(receipt) == 0
    assert bewijslast(["verify", "--database", real, "--vkey", str(vkey), *policy]) == 0
    capsys.readouterr()

    # The keyholder records another history under the same key (without the checkpointer's
    # state file, which would have refused it) and shows it to an auditor.
    stolen = tmp_path / "stolen"
    stolen.mkdir()
    for name in ("ledger.key", "master.key"):
        shutil.copy2(keys / name, stolen / name)
    record(forked, stolen, witnesses, monkeypatch)
    assert bewijslast(["export", "--out", str(tmp_path / "fork.zip")]) == 0
    capsys.readouterr()
    fork = ["verify", str(tmp_path / "fork.zip"), "--vkey", str(vkey)]
    assert ledger_main(fork) == 0  # its own signature holds: only the witness tells
    capsys.readouterr()
    assert ledger_main([*fork, *policy]) == 1
    out = capsys.readouterr().out
    assert "check cosignature" in out
    assert "expected at least 1 of 1 witnesses, found 0 (none)" in out
    assert [c.checkpoint.origin for c in fg.store.cosigned()] == [ORIGIN]
    fg.stop()

    # A policy that no key list can meet is a usage error, not a verdict.
    two = ["--witness-vkey", str(tmp_path / "fg.vkey"), "--min-witnesses", "2"]
    assert ledger_main(["verify", str(tmp_path / "real.zip"), "--vkey", str(vkey), *two]) == 2
