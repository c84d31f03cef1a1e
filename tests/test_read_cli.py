"""The reading commands on the demo history: report, reconstruct, register exports."""

from __future__ import annotations

import csv
import io
import json

import pytest

from adapters.cli import main
from ledger.evidence import verify_evidence, verify_whole_stream
from ledger.note import NoteVerifier

COLLEGE = "college van burgemeester en wethouders"


SETTINGS = (
    "BEWIJSLAST_CONFIG",
    "BEWIJSLAST_DATABASE_URL",
    "BEWIJSLAST_ORIGIN",
    "BEWIJSLAST_SIGNING_KEY_FILE",
    "BEWIJSLAST_MASTER_KEY_FILE",
    "BEWIJSLAST_CHECKPOINT_STATE_FILE",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo history in a SQLite file, with its keys, as an operator would have it."""
    home = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{home / 'b.db'}"
    with pytest.MonkeyPatch.context() as env:
        for name in SETTINGS:
            env.delenv(name, raising=False)
        env.chdir(home)
        assert main(["demo", "--database", url]) == 0
    return home, url


@pytest.fixture
def configured(demo, monkeypatch):
    """In the demo's folder with nothing exported: bewijslast.toml says it all."""
    home, url = demo
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(home)
    verifier = NoteVerifier.from_vkey((home / "keys" / "ledger.vkey").read_text().strip())
    return home, url, [verifier]


def test_the_report_in_json_and_html(configured, tmp_path):
    _, url, verifiers = configured
    period = ["--from", "2024-01-01", "--to", "2025-12-31"]
    town = ["--municipality", "Putten", "--controller", COLLEGE]
    out = tmp_path / "report.json"
    assert (
        main(["report", "--database", url, *town, *period, "--format", "json", "--out", str(out)])
        == 0
    )
    document = json.loads(out.read_text())
    breaches = {f["key"]: f for f in document["sections"]["breaches"]}
    assert breaches["breaches.notified_late"]["value"] == 1
    receipts = {int(i): e["receipt"] for i, e in document["evidence"].items()}
    verify_evidence(receipts, {}, verifiers)
    html = tmp_path / "report.html"
    assert (
        main(["report", "--database", url, *town, *period, "--lang", "en", "--out", str(html)]) == 0
    )
    assert "Accountability report: Putten" in html.read_text()
    assert (
        main(["report", "--database", url, *town, "--from", "2025-01-01", "--to", "2024-01-01"])
        == 2
    )


def test_reconstruct_a_record_at_an_index_and_check_it_offline(configured, tmp_path):
    _, url, verifiers = configured
    out = tmp_path / "register.json"
    assert (
        main(
            [
                "reconstruct",
                "processing_register",
                "--database",
                url,
                "--index",
                "100",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    whole = json.loads(out.read_text())
    assert whole["as_of_index"] == 100
    assert all(e["index"] <= 100 for e in whole["entries"])
    activity = whole["result"][0]["activity"]
    one = tmp_path / "activity.json"
    assert (
        main(
            [
                "reconstruct",
                "processing_register",
                "--database",
                url,
                "--record",
                activity,
                "--at",
                "2999-01-01T00:00+01:00",
                "--out",
                str(one),
            ]
        )
        == 0
    )
    document = json.loads(one.read_text())
    entries, _ = verify_evidence(
        {e["index"]: e["receipt"] for e in document["entries"]}, {}, verifiers
    )
    verify_whole_stream(entries, None)
    assert main(["reconstruct", "no_such_model", "--database", url, "--index", "1"]) == 2
    assert main(["reconstruct", "processing_register", "--database", url, "--index", "99999"]) == 2


def test_register_exports(configured, tmp_path):
    _, url, _ = configured
    public, vng = tmp_path / "public.json", tmp_path / "register.csv"
    assert (
        main(["register", "--database", url, "--municipality", "Leusden", "--out", str(public)])
        == 0
    )
    published = json.loads(public.read_text())
    assert published
    assert "security_measures" not in published[0]
    assert (
        main(
            [
                "register",
                "--database",
                url,
                "--municipality",
                "Leusden",
                "--format",
                "vng",
                "--out",
                str(vng),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(vng.read_text()), delimiter=";"))
    assert len(rows) == len(published)
    assert {r["Verwerkingsactiviteit-ID"] for r in rows} == {p["id"] for p in published}
