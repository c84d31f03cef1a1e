"""The reading commands on the demo history: report, reconstruct, register exports."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from adapters.bootstrap import open_application
from adapters.config import Settings
from adapters.entrypoints.cli.main import main
from adapters.persistence.subject_keys import MasterKey
from adapters.services.accountability_report import COUNTED, WORDS
from adapters.services.accountability_report import LABELS as REPORT_LABELS
from domain.labels import LABELS
from ledger.evidence import verify_evidence, verify_whole_stream
from ledger.note import NoteVerifier
from tests.conftest import SETTINGS, copy_demo

COLLEGE = "college van burgemeester en wethouders"


@pytest.fixture(scope="module")
def demo(demo_folder, tmp_path_factory):
    """The demo history in a SQLite file, with its keys, as an operator would have it: a copy
    of the demo recorded once for the whole run, for this module's tests."""
    home = copy_demo(demo_folder, tmp_path_factory.mktemp("demo") / "home")
    return home, f"sqlite:///{home / 'bewijslast.db'}"


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
    assert vng.read_bytes().startswith(b"\xef\xbb\xbf")  # the UTF-8 byte-order mark
    rows = list(csv.DictReader(io.StringIO(vng.read_text("utf-8-sig")), delimiter=";"))
    assert next(iter(rows[0])) == "Verwerkingsactiviteit-ID"  # the mark is not part of the title
    assert "Categorieën betrokkenen" in rows[0]
    assert len(rows) == len(published)
    assert {r["Verwerkingsactiviteit-ID"] for r in rows} == {p["id"] for p in published}
    # Art. 30(1)(a) from the organisation the demo declared; the FG's name stays internal.
    assert published[0]["controller_contact"] == "Gemeente Leusden, gemeente@leusden.nl"
    assert published[0]["fg_contact"] == "privacy@blnp.nl"
    assert "F. van Gelder" not in public.read_text()
    assert rows[0]["Contactgegevens verwerkingsverantwoordelijke"] == (
        "Gemeente Leusden, gemeente@leusden.nl"
    )
    assert rows[0]["Functionaris gegevensbescherming"] == "F. van Gelder"
    assert rows[0]["Contactgegevens functionaris gegevensbescherming"] == "privacy@blnp.nl"
    # Field 7 is published, as a general description; the measures are not.
    assert {p["security_description"] for p in published} == {
        "Beveiligd volgens de Baseline Informatiebeveiliging Overheid (BIO)"
    }


def test_verify_recognises_what_it_is_handed_by_content_not_by_name(configured, tmp_path, capsys):
    home, url, _ = configured
    vkey = ["--vkey", str(home / "keys" / "ledger.vkey")]
    period = ["--from", "2024-01-01", "--to", "2025-12-31"]
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
    vkey = ["--vkey", str(home / "keys" / "ledger.vkey")]

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
        command += ["--controller", COLLEGE, "--from", "2024-01-01", "--to", "2025-12-31"]
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


# --- the demo's folder: everything configured by bewijslast.toml --------------------------


def test_after_the_demo_the_commands_work_in_its_folder_with_nothing_exported(
    configured, tmp_path, capsys
):
    home, _, verifiers = configured
    config = (home / "bewijslast.toml").read_text()
    assert 'master_key_file = "keys/master.key"' in config
    assert 'name = "Putten"' in config
    town = ["--municipality", "Putten", "--controller", COLLEGE]
    out = tmp_path / "report.json"
    period = ["--from", "2024-01-01", "--to", "2025-12-31"]
    assert main(["report", *town, *period, "--format", "json", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    verify_evidence({int(i): e["receipt"] for i, e in document["evidence"].items()}, {}, verifiers)
    assert main(["register", "--municipality", "Leusden", "--format", "vng"]) == 0
    assert "Verwerkingsactiviteit-ID" in capsys.readouterr().out
    assert main(["apikey", "create", "--actor", "fg@blnp.nl", "--grant", "FG:Leusden"]) == 0
    assert capsys.readouterr().out.startswith("bwl_")
    assert main(["organisation"]) == 0
    listed = capsys.readouterr().out
    assert "Putten\n  college van burgemeester en wethouders\n  burgemeester" in listed
    assert "FG (art. 37(7) AVG): F. van Gelder <privacy@blnp.nl>" in listed
    assert main(["checkpoint"]) == 0


def test_the_demo_refuses_a_ledger_that_already_holds_entries(configured, capsys):
    home, _, _ = configured
    assert main(["demo"]) == 2
    said = capsys.readouterr().err
    assert f"the ledger in {home / 'bewijslast.db'} already holds 500 entries" in said
    assert "--database with a new file, or run the demo in a fresh folder" in said
    app = open_application(Settings.from_environ({}, config_file=home / "bewijslast.toml"))
    assert app.recorder.ledger_size() == 500


def test_a_missing_master_key_names_the_file_the_data_was_recorded_under(
    configured, demo_folder, capsys
):
    home, _, _ = configured
    without = home / "without-master.toml"
    lines = (home / "bewijslast.toml").read_text().splitlines()
    without.write_text("\n".join(x for x in lines if not x.startswith("master_key_file")) + "\n")
    town = ["--municipality", "Putten", "--controller", COLLEGE]
    period = ["--from", "2024-01-01", "--to", "2025-12-31", "--format", "json"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("BEWIJSLAST_CONFIG", str(without))
        assert main(["report", *town, *period]) == 2
    said = capsys.readouterr().err
    # The folder the demo recorded the data in, of which this one is a copy.
    assert f"recorded under the master key in {demo_folder / 'keys' / 'master.key'}" in said
    assert f"set master_key_file in {without}" in said
    assert "keys master" not in said


def test_a_missing_signing_key_names_the_file_that_signed_the_checkpoints(
    configured, demo_folder, capsys
):
    home, _, _ = configured
    without = home / "without-signing.toml"
    lines = (home / "bewijslast.toml").read_text().splitlines()
    without.write_text("\n".join(x for x in lines if not x.startswith("signing_key_file")) + "\n")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("BEWIJSLAST_CONFIG", str(without))
        assert main(["checkpoint"]) == 2
    said = capsys.readouterr().err
    assert f"signed with the key in {demo_folder / 'keys' / 'ledger.key'}" in said
    assert "keys generate" not in said


def test_another_master_key_is_refused_and_keys_master_makes_none_where_data_exists(
    configured, demo_folder, capsys
):
    home, _, _ = configured
    assert main(["keys", "master", "--out", "another.key"]) == 2
    said = capsys.readouterr().err
    assert "holds subject keys" in said
    recorded_under = demo_folder / "keys" / "master.key"  # where the demo recorded the data
    assert f"master key in {recorded_under}" in said
    assert not (home / "another.key").exists()
    other = home.parent / f"{home.name}-other.key"
    MasterKey.generate_file(other)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("BEWIJSLAST_MASTER_KEY_FILE", str(other))
        assert main(["organisation"]) == 2
    said = capsys.readouterr().err
    assert f"wrapped by the master key in {recorded_under}, not by {other}" in said


def test_unknown_municipalities_and_controllers_are_refused_with_the_declared_ones(
    configured, capsys
):
    declared = "declared: Bunschoten, Leusden, Nijkerk, Putten"
    assert main(["register", "--municipality", "leusden"]) == 2
    assert f"no municipality 'leusden' is declared; {declared}" in capsys.readouterr().err
    period = ["--from", "2024-01-01", "--to", "2025-12-31"]
    assert main(["report", "--municipality", "Putten", "--controller", "raad", *period]) == 2
    assert "Putten declares no controller 'raad'" in capsys.readouterr().err
    assert main(["apikey", "create", "--actor", "x@y.nl", "--grant", "FG:leusden"]) == 2
    assert declared in capsys.readouterr().err
    assert main(["apikey", "list"]) == 0
    assert "x@y.nl" not in capsys.readouterr().out


def test_the_two_times_of_the_demo_stated_in_the_past_recorded_now(configured, tmp_path):
    _, _, verifiers = configured
    recorded_before = ["--as-recorded-at", "2020-01-01T00:00+01:00"]
    assert main(["reconstruct", "incident_register", *recorded_before]) == 2
    mid, late = tmp_path / "mid.json", tmp_path / "late.json"
    as_of_mid = "2024-07-01T00:00+02:00"
    assert main(["reconstruct", "incident_register", "--as-of", as_of_mid, "--out", str(mid)]) == 0
    now = datetime.now(UTC).isoformat()
    assert (
        main(["reconstruct", "incident_register", "--as-recorded-at", now, "--out", str(late)]) == 0
    )
    then, everything = json.loads(mid.read_text()), json.loads(late.read_text())
    assert then["as_of"] == "2024-07-01T00:00:00+02:00"
    assert 0 < len(then["result"]) < len(everything["result"]) == 18
    cut = datetime.fromisoformat(as_of_mid)
    assert all(datetime.fromisoformat(r["reported_at"]) <= cut for r in then["result"])
    verify_evidence({e["index"]: e["receipt"] for e in then["entries"]}, {}, verifiers)
    # Every entry was recorded after the story it tells.
    assert all(e["entry"]["recorded_at"] > "2026" for e in then["entries"])


def test_the_register_as_of_a_stated_moment_and_as_recorded_at_a_moment(configured, capsys):
    leusden = ["--municipality", "Leusden"]
    before_retirement = "2024-01-11T00:00+01:00"
    assert main(["register", *leusden, "--as-of", before_retirement]) == 0
    then = json.loads(capsys.readouterr().out)
    assert main(["register", *leusden]) == 0
    now = json.loads(capsys.readouterr().out)
    assert len(then) == 5  # Leusden's camera surveillance was still in force
    assert len(now) == 5  # the camera retired; youth care (the processors scene) registered
    assert main(["register", *leusden, "--as-of", "2024-01-01T00:00+01:00"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    recorded = ["--as-recorded-at", datetime.now(UTC).isoformat()]
    assert main(["register", *leusden, *recorded, "--as-of", before_retirement]) == 0
    assert json.loads(capsys.readouterr().out) == then
    before = ["--as-recorded-at", "2020-01-01T00:00Z"]
    assert main(["register", *leusden, *before]) == 2


def test_init_writes_the_configuration_once_and_the_environment_wins_over_it(
    tmp_path, monkeypatch, capsys
):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--database", "sqlite:///ledger/b.db"]) == 0
    assert (tmp_path / "keys" / "ledger.key").stat().st_mode & 0o077 == 0
    assert (tmp_path / "keys" / "master.key").stat().st_mode & 0o077 == 0
    assert main(["init"]) == 2
    assert "bewijslast.toml exists" in capsys.readouterr().err
    settings = Settings.from_environ({}, config_file=tmp_path / "bewijslast.toml")
    assert settings.database_url == f"sqlite:///{tmp_path / 'ledger' / 'b.db'}"
    assert settings.master_key_file == tmp_path / "keys" / "master.key"
    env = {"BEWIJSLAST_DATABASE_URL": "sqlite:///elsewhere.db", "BEWIJSLAST_ORIGIN": "o.nl/x"}
    settings = Settings.from_environ(env, config_file=tmp_path / "bewijslast.toml")
    assert (settings.database_url, settings.origin) == ("sqlite:///elsewhere.db", "o.nl/x")
    flagged = Settings.from_environ(
        env, database="sqlite:///flag.db", config_file=tmp_path / "bewijslast.toml"
    )
    assert flagged.database_url == "sqlite:///flag.db"
    (tmp_path / "bewijslast.toml").write_text('databse = "sqlite:///typo.db"\n')
    assert main(["organisation"]) == 2
    assert "unknown setting 'databse'" in capsys.readouterr().err


@pytest.mark.long
def test_the_demo_folder_on_postgresql(pg_database, tmp_path, monkeypatch, capsys):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--database", pg_database.url]) == 0
    assert f'database = "{pg_database.url}"' in (tmp_path / "bewijslast.toml").read_text()
    capsys.readouterr()
    assert main(["demo"]) == 2
    assert f"the ledger in {pg_database.url} already holds 500 entries" in capsys.readouterr().err
    assert main(["organisation"]) == 0
    assert "Nijkerk\n  college van burgemeester en wethouders" in capsys.readouterr().out
    assert main(["register", "--municipality", "nijkerk"]) == 2
    assert "declared: Bunschoten, Leusden, Nijkerk, Putten" in capsys.readouterr().err
    leusden = ["--municipality", "Leusden", "--as-of", "2024-01-11T00:00+01:00"]
    assert main(["register", *leusden, "--as-recorded-at", datetime.now(UTC).isoformat()]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 5
    assert main(["keys", "master", "--out", "another.key"]) == 2
    assert f"master key in {tmp_path / 'keys' / 'master.key'}" in capsys.readouterr().err
    without = tmp_path / "without-master.toml"
    lines = (tmp_path / "bewijslast.toml").read_text().splitlines()
    without.write_text("\n".join(x for x in lines if not x.startswith("master_key_file")) + "\n")
    monkeypatch.setenv("BEWIJSLAST_CONFIG", str(without))
    period = ["--from", "2024-01-01", "--to", "2025-12-31", "--format", "json"]
    assert main(["report", "--municipality", "Putten", "--controller", COLLEGE, *period]) == 2
    said = capsys.readouterr().err
    assert f"recorded under the master key in {tmp_path / 'keys' / 'master.key'}" in said


def test_no_key_is_created_that_makes_an_fg_a_decider_where_it_is_fg(configured, capsys):
    assert main(["apikey", "list"]) == 0
    before = capsys.readouterr().out
    fg = ["apikey", "create", "--actor", "fg@blnp.nl", "--grant", "FG:Leusden"]
    assert main([*fg, "--grant", "SECRETARY:Leusden"]) == 2
    assert "art. 38(6)" in capsys.readouterr().out
    assert main(["apikey", "list"]) == 0
    assert capsys.readouterr().out == before


def test_the_report_shows_the_fgs_part_in_each_decision(configured, tmp_path):
    _, url, _ = configured
    out = tmp_path / "report.json"
    command = ["report", "--database", url, "--municipality", "Leusden", "--controller", COLLEGE]
    period = ["--from", "2024-01-01", "--to", "2025-12-31", "--format", "json"]
    assert main([*command, *period, "--out", str(out)]) == 0
    figures = {f["key"]: f for f in json.loads(out.read_text())["sections"]["fg_involvement"]}
    # The stolen laptop: decided within the 72 hours without FG advice, the reason given; the
    # FG then advised unasked. The lost USB stick: the FG informed at once (step 3).
    (without,) = figures["fg_involvement.without_advice"]["detail"]
    assert (without["ground"], without["reason"]) == (
        "spoed",
        "FG niet bereikbaar binnen de 72 uur",
    )
    assert figures["fg_involvement.volunteered"]["value"] == 1
    assert figures["fg_involvement.fg_informed"]["value"] == 1
    assert figures["fg_involvement.fg_informed"]["evidence"]
    assert (
        figures["fg_involvement.advice_followed"]["value"]
        + figures["fg_involvement.advice_departed"]["value"]
        == 2
    )
