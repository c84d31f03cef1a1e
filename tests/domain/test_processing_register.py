"""The register of processing activities: versions, never edits; the art. 30 rules."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from pydantic import ValidationError

from domain.deadlines import AMSTERDAM
from domain.errors import ProcedureError
from domain.processing import (
    LegalBasis,
    ProcessingActivity,
    RegisterChanges,
    RegisterEntry,
    SpecialCategoryGround,
)
from domain.processors import TransferSafeguard
from projections.register import published, vng_csv

NEW_FIELDS = (
    "special_category_grounds",
    "criminal_data_ground",
    "transfers",
    "security_description",
    "processor_ids",
)

JAN, MAR = (datetime(2026, m, 1, tzinfo=AMSTERDAM) for m in (1, 3))


def entry(**changes) -> dict:
    base = RegisterEntry(
        name="Verstrekken van bijstand",
        purposes=["Participatiewet"],
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        legal_basis_law="Participatiewet",
        data_subject_categories=["aanvragers"],
        personal_data_categories=["inkomen"],
        bsn_used=True,
        bsn_legal_basis="art. 10 Wabb",
        retention="10 jaar",
        security_measures=["BIO"],
        process_owner="hoofd Werk en Inkomen",
    ).model_dump(mode="json")
    return {**base, **changes}


def activity() -> ProcessingActivity:
    return ProcessingActivity.register(
        municipality="Leusden",
        controller="college van B&W",
        entry=entry(),
        valid_from=JAN,
        actor="pb@leusden.nl",
    )


def test_every_amendment_is_a_new_version_with_its_own_identifier():
    pa = activity()
    first_uri = pa.version_uri
    pa.amend(
        changes=RegisterChanges(**{"purposes": ["Participatiewet", "Terugvordering"]}),
        valid_from=MAR,
        actor="pb@leusden.nl",
    )
    assert pa.version_uri != first_uri
    assert pa.version_uri.startswith("urn:uuid:")
    assert pa.entry["purposes"] == ["Participatiewet", "Terugvordering"]
    assert pa.valid_from == MAR


def test_the_identifier_of_a_version_is_the_same_when_rebuilt_from_its_events():
    pa = activity()
    pa.amend(changes=RegisterChanges(**{"name": "Bijstand"}), valid_from=MAR, actor="pb@leusden.nl")
    rebuilt = None
    for stored_event in pa.collect_events():
        rebuilt = stored_event.mutate(rebuilt)
    assert rebuilt.version_id == pa.version_id
    assert rebuilt.entry == pa.entry


def test_bsn_use_needs_its_legal_basis():
    with pytest.raises(ProcedureError, match="art. 46 UAVG"):
        ProcessingActivity.register(
            municipality="Leusden",
            controller="college van B&W",
            entry=entry(bsn_legal_basis=""),
            valid_from=JAN,
            actor="pb",
        )
    with pytest.raises(ValidationError, match="art. 46 UAVG"):
        RegisterEntry(**entry(bsn_legal_basis=""))


def test_an_amendment_that_breaks_the_rules_is_refused_and_changes_nothing():
    pa = activity()
    with pytest.raises(ProcedureError, match="art. 9"):
        pa.amend(
            changes=RegisterChanges(
                **{
                    "special_categories": ["gezondheid"],
                    "legal_basis": LegalBasis.LEGITIMATE_INTERESTS,
                }
            ),
            valid_from=MAR,
            actor="pb",
        )
    assert pa.version == 1


def test_an_amendment_is_typed_as_the_register_is():
    with pytest.raises(ValidationError, match="purposes"):
        RegisterChanges(purposes="geen lijst")
    with pytest.raises(ValidationError, match="Extra inputs"):
        RegisterChanges(unknown_field=1)
    with pytest.raises(ValidationError, match="at least one field"):
        RegisterChanges()
    # A client's "false" is the domain's False, in the aggregate and in every read model.
    assert RegisterChanges(criminal_data="false").stated() == {"criminal_data": False}


def test_a_required_dpia_needs_a_reason_and_one_recorded_before_the_procedure_still_reads():
    with pytest.raises(ProcedureError, match="art. 35"):
        ProcessingActivity.register(
            municipality="Leusden",
            controller="college van B&W",
            entry=entry(dpia_required=True),
            valid_from=JAN,
            actor="pb",
        )
    pa = ProcessingActivity.register(
        municipality="Leusden",
        controller="college van B&W",
        entry=entry(dpia_required=True, dpia_reason="profilering"),
        valid_from=JAN,
        actor="pb",
    )
    pa._dpia_recorded(  # as RecordDPIA stored it, before the DPIA procedure
        outcome="aanvaardbaar", residual_risk="laag", fg_advice=None, recorded_at=MAR, actor="pb"
    )
    assert pa.dpias == [{"outcome": "aanvaardbaar", "residual_risk": "laag"}]


def test_a_retired_activity_is_not_amended():
    pa = activity()
    pa.retire(reason="taak overgedragen aan de regio", valid_from=MAR, actor="pb")
    with pytest.raises(ProcedureError, match="retired"):
        pa.amend(changes=RegisterChanges(**{"name": "x"}), valid_from=MAR, actor="pb")


# --- art. 30(1): the grounds, the transfers and field 7 ----------------------------------------


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"special_categories": ["gezondheid"]}, r"art\. 9\(2\) grounds go together"),
        (
            {"special_category_grounds": ["art. 9(2)(b) arbeidsrecht, sociale zekerheid"]},
            r"art\. 9\(2\) grounds go together",
        ),
        ({"criminal_data": True}, "art. 10 ground go together"),
        (
            {"criminal_data_ground": "art. 10 onder toezicht van de overheid"},
            "art. 10 ground go together",
        ),
        ({"third_country_transfers": ["VS"]}, "name third-country transfers in 'transfers'"),
        (
            {
                "transfers": [
                    {
                        "recipient": "hosting",
                        "country": "DE",
                        "safeguard": "art. 47 bindende bedrijfsvoorschriften",
                    }
                ]
            },
            "DE lies in the EEA",
        ),
        ({"transfers": [{"recipient": "hosting", "country": "US"}]}, "safeguard"),
    ],
)
def test_what_art_30_asks_is_typed_and_goes_together(fields, problem):
    with pytest.raises(ValidationError, match=problem):
        RegisterEntry.model_validate(entry(**fields))


def test_an_entry_with_its_grounds_and_transfers_is_registered():
    complete = RegisterEntry.model_validate(
        entry(
            special_categories=["gezondheid"],
            special_category_grounds=["art. 9(2)(b) arbeidsrecht, sociale zekerheid"],
            criminal_data=True,
            criminal_data_ground="art. 10 bij wet toegestaan (UAVG art. 32-33)",
            transfers=[
                {
                    "recipient": "videobellen",
                    "country": "US",
                    "safeguard": "art. 46(2)(c) standaardcontractbepalingen",
                }
            ],
            security_description="volgens de BIO",
        )
    )
    assert complete.special_category_grounds == [
        SpecialCategoryGround.EMPLOYMENT_AND_SOCIAL_SECURITY
    ]
    assert complete.transfers[0].safeguard is TransferSafeguard.SCC


def test_the_published_register_shows_field_7_and_the_grounds_but_not_the_measures():
    complete = entry(
        special_categories=["gezondheid"],
        special_category_grounds=["art. 9(2)(b) arbeidsrecht, sociale zekerheid"],
        transfers=[
            {
                "recipient": "videobellen",
                "country": "US",
                "safeguard": "art. 46(2)(c) standaardcontractbepalingen",
            }
        ],
        security_description="volgens de BIO",
    )
    # An entry recorded before these fields existed publishes their defaults.
    old = {k: v for k, v in entry().items() if k not in NEW_FIELDS}
    rows = [
        {
            "version_uri": f"urn:uuid:{n}",
            "controller": "college",
            "valid_from": "2026-01-01",
            "entry": e,
            "processor_records": [],
            "dpia_at": None,
        }
        for n, e in enumerate((complete, old))
    ]
    new, before = published(rows)
    assert new["security_description"] == "volgens de BIO"
    assert "security_measures" not in new
    assert new["special_category_grounds"] == ["art. 9(2)(b) arbeidsrecht, sociale zekerheid"]
    assert new["third_country_transfers"] == [
        "videobellen: US (art. 46(2)(c) standaardcontractbepalingen)"
    ]
    assert (before["special_category_grounds"], before["security_description"]) == ([], "")
    assert before["criminal_data_ground"] is None
    table = list(csv.DictReader(io.StringIO(vng_csv(rows).lstrip("\ufeff")), delimiter=";"))
    assert table[0]["Algemene beschrijving beveiligingsmaatregelen"] == "volgens de BIO"
    assert table[0]["Grondslag bijzondere persoonsgegevens (art. 9 lid 2)"] == (
        "art. 9(2)(b) arbeidsrecht, sociale zekerheid"
    )
    assert table[1]["Grondslag strafrechtelijke gegevens (art. 10)"] == ""
