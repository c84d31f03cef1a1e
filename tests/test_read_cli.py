"""The reading commands on the demo history: report, reconstruct, register exports."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import subprocess
import sys

import pytest

from adapters.cli import main
from adapters.report import COUNTED, WORDS
from adapters.report import LABELS as REPORT_LABELS
from domain.labels import LABELS
from ledger.evidence import verify_evidence, verify_whole_stream
from ledger.note import NoteVerifier

COLLEGE = "college van burgemeester en wethouders"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo history in a SQLite file, with its keys, as an operator would have it."""
    home = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{home / 'b.db'}"
    with pytest.MonkeyPatch.context() as env:
        env.chdir(home)
        assert main(["demo", "--database", url]) == 0
    return home, url


@pytest.fixture
def configured(demo, monkeypatch):
    home, url = demo
    monkeypatch.setenv("BEWIJSLAST_SIGNING_KEY_FILE", str(home / "demo-keys" / "ledger.key"))
    monkeypatch.setenv("BEWIJSLAST_MASTER_KEY_FILE", str(home / "demo-keys" / "master.key"))
    verifier = NoteVerifier.from_vkey((home / "demo-keys" / "ledger.vkey").read_text().strip())
    return home, url, [verifier]


def test_the_report_in_json_and_html(configured, tmp_path):
    _, url, verifiers = configured
    period = ["--from", "2026-01-01", "--to", "2027-12-31"]
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
        main(["report", "--database", url, *town, "--from", "2027-01-01", "--to", "2026-01-01"])
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
    assert vng.read_bytes().startswith(b"\xef\xbb\xbf")  # the UTF-8 byte-order mark
    rows = list(csv.DictReader(io.StringIO(vng.read_text("utf-8-sig")), delimiter=";"))
    assert next(iter(rows[0])) == "Verwerkingsactiviteit-ID"  # the mark is not part of the title
    assert "Categorieën betrokkenen" in rows[0]
    assert len(rows) == len(published)
    assert {r["Verwerkingsactiviteit-ID"] for r in rows} == {p["id"] for p in published}


def test_verify_recognises_what_it_is_handed_by_content_not_by_name(configured, tmp_path, capsys):
    home, url, _ = configured
    vkey = ["--vkey", str(home / "demo-keys" / "ledger.vkey")]
    period = ["--from", "2026-01-01", "--to", "2027-12-31"]
    town = ["--municipality", "Putten", "--controller", COLLEGE]
    handed = {
        "recon.txt": ["reconstruct", "incident_register", "--index", "120"],
        "report.dat": ["report", *town, *period, "--format", "json"],
        "r.txt": ["receipt", "7"],
        "bundle.bin": ["export"],
    }
    for name, command in handed.items():
        out = tmp_path / ("bundle.zip" if name == "bundle.bin" else name)
        assert main([*command, "--database", url, "--out", str(out)]) == 0, name
        out.rename(tmp_path / name)
    (tmp_path / "folder").mkdir()
    assert main(["export", "--database", url, "--out", str(tmp_path / "folder")]) == 0
    capsys.readouterr()
    for name, found in (
        ("recon.txt", "found a reconstruction"),
        ("report.dat", "found an accountability report's evidence"),
        ("r.txt", "found a receipt"),
        ("bundle.bin", "found a bundle (a zip)"),
        ("folder", "found a bundle (a directory)"),
    ):
        assert main(["verify", str(tmp_path / name), *vkey]) == 0, name
        said = capsys.readouterr().out
        assert said.startswith(found + "\n"), said
        assert "OK" in said

    # A state that is not the one its entry hashed: exit 1, as for a bundle.
    recon = json.loads((tmp_path / "recon.txt").read_text())
    with_state = next(e for e in recon["entries"] if e["state"])
    with_state["state"] = base64.b64encode(b"{}").decode()
    (tmp_path / "forged.json").write_text(json.dumps(recon))
    assert main(["verify", str(tmp_path / "forged.json"), *vkey]) == 1
    assert "state differs" in capsys.readouterr().out
    # Neither of the four: exit 2, saying what it takes.
    (tmp_path / "notes.txt").write_text("boodschappen\n")
    assert main(["verify", str(tmp_path / "notes.txt"), *vkey]) == 2
    assert "neither a bundle" in capsys.readouterr().err


def test_python_m_ledger_evidence_prints_its_verdict_and_exits_like_verify(configured, tmp_path):
    home, url, _ = configured
    recon = tmp_path / "recon.json"
    record = ["--record", _first_incident(url, tmp_path)]
    assert (
        main(
            [
                "reconstruct",
                "incident_register",
                *record,
                "--database",
                url,
                "--index",
                "200",
                "--out",
                str(recon),
            ]
        )
        == 0
    )
    vkey = ["--vkey", str(home / "demo-keys" / "ledger.vkey")]

    def evidence(path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ledger.evidence", str(path), *vkey],
            capture_output=True,
            text=True,
            timeout=120,
        )

    ok = evidence(recon)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("found a reconstruction\n")
    assert "OK" in ok.stdout
    # Leave out the record's first entry: its stream no longer closes.
    document = json.loads(recon.read_text())
    assert len(document["entries"]) > 1
    document["entries"] = document["entries"][1:]
    (tmp_path / "gap.json").write_text(json.dumps(document))
    gap = evidence(tmp_path / "gap.json")
    assert gap.returncode == 1
    assert "FAILED" in gap.stdout
    (tmp_path / "broken.json").write_text("{")
    assert evidence(tmp_path / "broken.json").returncode == 2


def _first_incident(url, tmp_path) -> str:
    whole = tmp_path / "incidents.json"
    assert (
        main(
            [
                "reconstruct",
                "incident_register",
                "--database",
                url,
                "--index",
                "200",
                "--out",
                str(whole),
            ]
        )
        == 0
    )
    return json.loads(whole.read_text())["result"][0]["id"]


def test_export_refuses_a_folder_in_use_unless_forced_and_then_empties_it(configured, tmp_path):
    _, url, _ = configured
    out = tmp_path / "bundle"
    (out / "proofs").mkdir(parents=True)
    stale = out / "proofs" / "999999.tlog-proof"
    stale.write_text("from an earlier export\n")
    assert main(["export", "--database", url, "--out", str(out)]) == 2
    assert stale.exists()
    assert main(["export", "--database", url, "--out", str(out), "--force"]) == 0
    assert not stale.exists()
    assert (out / "bundle.json").exists()


def words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}


def shown(html: str) -> str:
    """What a reader sees as the page's own words: no styles, no receipts (base64), no tags,
    and no user text (quoted: <q>, or “…” / ‘…’ in the charts)."""
    hidden = r"<style.*?</style>|<pre>.*?</pre>|<q>.*?</q>|“[^”]*”|‘[^’]*’|<[^>]+>"
    return re.sub(hidden, " ", html, flags=re.S)


def test_the_english_report_of_the_demo_has_no_dutch_label(configured, tmp_path):
    _, url, _ = configured
    pages = {}
    for lang in ("nl", "en"):
        out = tmp_path / f"report.{lang}.html"
        command = ["report", "--database", url, "--municipality", "Putten"]
        command += ["--controller", COLLEGE, "--from", "2026-01-01", "--to", "2027-12-31"]
        assert main([*command, "--lang", lang, "--out", str(out)]) == 0
        pages[lang] = out.read_text()
    tables = [*LABELS.values(), *REPORT_LABELS.values(), *WORDS.values()]
    tables += [(" ".join(nl), " ".join(en)) for nl, en in COUNTED.values()]
    english = {w for _, en in tables for w in words(en)}
    dutch = {w for nl, _ in tables for w in words(nl)} - english
    assert dutch & words(shown(pages["nl"]))  # the check can see a Dutch word
    assert dutch & words(shown(pages["en"])) == set()
    assert {"confidentiality", "erasure"} <= words(shown(pages["en"]))  # values, translated
    assert re.search(r"\d+ entries", pages["en"])
    assert "entrys" not in pages["en"]
    # Every request in the handling chart has its own label.
    chart = pages["en"].split('id="requests"')[1].split("</svg>")[0]
    labels = re.findall(r'text-anchor="end">([^<]+)</text>', chart)
    assert len(labels) > 2
    assert len(set(labels)) == len(labels), labels
    assert [text for text in labels if "…" in text] == []  # no word cut off
