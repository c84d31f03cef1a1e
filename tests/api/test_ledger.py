"""The ledger over HTTP, checked with nothing but ``ledger/`` and the verifier key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from domain.authorization import Role
from ledger.checkpoint import open_checkpoint
from ledger.entry import Entry
from ledger.merkle import verify_consistency, verify_inclusion
from ledger.note import COSIGNATURE_V1, NoteSigner, NoteVerifier, cosign, split_note, unb64
from ledger.receipt import verify_receipt
from ledger.verify import verify_bundle
from ledger.witness import WitnessPolicy
from tests.api.conftest import COLLEGE, TOWN, Served
from tests.forms import URGENT


def record_breach_decision(served: Served) -> None:
    """Four entries; the decision signs a checkpoint right after it."""
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    incident = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="lek"
    ).json()["id"]
    served.command("triage-incident", ciso, aggregate_id=incident, impact="midden")
    served.command(
        "establish-breach",
        ciso,
        aggregate_id=incident,
        aware_at=served.clock.now.isoformat(),
        natures=["integriteit"],
        data_categories=["NAW"],
        approx_subjects=3,
        approx_records=3,
        likely_consequences="onjuiste gegevens",
    )
    decided = served.command(
        "decide-notification",
        served.role(Role.SECRETARY),
        aggregate_id=incident,
        notify_ap=False,
        ap_reasons="geen risico",
        inform_subjects=False,
        subjects_reasons="geen risico",
        without_fg_advice=URGENT,
    )
    assert decided.status_code == 201, decided.text


def checkpoint(served: Served):
    response = served.client.get("/ledger/checkpoint")
    assert response.status_code == 200
    return open_checkpoint(response.text, served.verifiers)


def all_entries(served: Served, limit: int) -> list[dict]:
    """Following ``next`` from the start, as a consumer of the feed does."""
    found, url = [], f"/ledger/entries?limit={limit}"
    while url:
        page = served.client.get(url).json()
        found += page["items"]
        url = page["next"]
    return found


def test_checkpoint_entries_and_proofs_verify_against_the_verifier_key(served: Served):
    record_breach_decision(served)
    old = checkpoint(served)
    assert old.size == 4
    entries = all_entries(served, limit=3)
    assert [e["entry"]["index"] for e in entries] == [0, 1, 2, 3]
    for item in entries:
        entry = Entry.from_object(item["entry"])
        assert entry.leaf_hash().hex() == item["leaf_hash"]
        proof = served.client.get(
            f"/ledger/proofs/inclusion?index={entry.index}&tree_size={old.size}"
        ).json()
        assert unb64(proof["root"], "root") == old.root
        path = [unb64(h, "hash") for h in proof["path"]]
        verify_inclusion(entry.leaf_hash(), entry.index, old.size, path, old.root)

    record_breach_decision(served)
    new = checkpoint(served)
    assert new.size == 8
    proof = served.client.get(
        f"/ledger/proofs/consistency?old_size={old.size}&new_size={new.size}"
    ).json()
    path = [unb64(h, "hash") for h in proof["path"]]
    verify_consistency(old.size, new.size, path, old.root, new.root)


def test_a_receipt_verifies_offline(served: Served):
    record_breach_decision(served)
    response = served.client.get("/ledger/receipts/2")
    assert response.status_code == 200
    entry, under = verify_receipt(response.text, served.verifiers)
    assert entry.index == 2
    assert under.size == 4


def test_the_bundle_downloads_and_verifies(served: Served, tmp_path: Path):
    record_breach_decision(served)
    record_breach_decision(served)
    auditor = served.role(Role.AUDITOR)
    for name, query in (("whole.zip", ""), ("part.zip", "?from=2&to=5")):
        response = served.client.get(f"/ledger/bundle{query}", headers=auditor)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        (tmp_path / name).write_bytes(response.content)
        report = verify_bundle(tmp_path / name, served.verifiers)
        assert report.ok, report.failures
    assert report.first_index == 2
    assert report.entries == 4
    # States are for those who may verify; an employee may not.
    refused = served.client.get("/ledger/bundle", headers=served.role(Role.EMPLOYEE))
    assert refused.status_code == 403


def test_an_empty_ledger_answers_without_errors(on_sqlite: Served):
    client, auditor = on_sqlite.client, on_sqlite.role(Role.AUDITOR)
    assert client.get("/ledger/entries").json() == {"items": [], "next": None}
    assert client.get("/health").json()["ledger_size"] == 0
    for url, status in (
        ("/ledger/checkpoint", 404),
        ("/ledger/receipts/0", 404),
        ("/ledger/proofs/inclusion?index=0&tree_size=1", 422),
        ("/ledger/proofs/consistency?old_size=1&new_size=1", 422),
    ):
        response = client.get(url)
        assert response.status_code == status, url
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/ledger/bundle", headers=auditor).status_code == 404
    assert (
        client.get("/reconstructions/incident_register?index=0", headers=auditor).status_code == 404
    )


def test_the_checkpoint_receipts_and_bundles_carry_the_witnesses_cosignatures(
    served: Served, tmp_path: Path
):
    record_breach_decision(served)
    note = served.client.get("/ledger/checkpoint").text
    checkpoint = open_checkpoint(note, served.verifiers)
    fg = NoteSigner.generate("fg.bunschoten.nl/witness", COSIGNATURE_V1)
    line = cosign(split_note(note)[0], fg, int(served.clock.now.timestamp()))
    served.app.recorder.store_cosignature(checkpoint.size, "fg", line, datetime.now(UTC))
    policy = WitnessPolicy([NoteVerifier.from_vkey(fg.vkey())], 1)

    cosigned = served.client.get("/ledger/checkpoint").text
    assert cosigned == note + line
    receipt = served.client.get(f"/ledger/receipts/{checkpoint.size - 1}").text
    assert receipt.endswith(cosigned)
    bundle = tmp_path / "ledger.zip"
    bundle.write_bytes(
        served.client.get("/ledger/bundle", headers=served.role(Role.AUDITOR)).content
    )
    report = verify_bundle(bundle, served.verifiers, policy=policy)
    assert report.ok, report.failures
    assert report.cosigned_by == [fg.name]
