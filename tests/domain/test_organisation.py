"""The organisation: municipalities, their controllers and the FG, declared once and recorded;
records for an owner it does not declare are refused with the declared ones."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import pytest

from adapters.config import database_env
from adapters.persistence.personal_data import ErasedAsSubject, PersonalDataAsCiphertext
from adapters.persistence.subject_keys import MasterKey, open_key_store
from domain.application import Bewijslast
from domain.authorization import Actor, Grant, Role
from domain.commands import ErasePersonalData, ReportIncident, RequestFGAdvice
from domain.deadlines import AMSTERDAM
from domain.organisation import (
    DeclaredFG,
    DeclaredMunicipality,
    DeclareOrganisation,
    UnknownOwner,
)
from domain.personal_data import ErasureGround, PersonalData

NOW = datetime(2026, 3, 2, 9, tzinfo=AMSTERDAM)
COLLEGE = "college van burgemeester en wethouders"
OPERATOR = "operator:beheer@blnp"
SOME_RECORD = UUID(int=7)


@pytest.fixture(params=["sqlite", "postgres"])
def app(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'b.db'}"
    else:
        url = request.getfixturevalue("pg_database").url
    keys = open_key_store(url, MasterKey.generate())
    application = Bewijslast(
        env=database_env(url),
        transcodings=[PersonalDataAsCiphertext(keys), ErasedAsSubject()],
        clock=lambda: NOW,
    )
    yield application
    application.close()


def towns(*names: str, controllers: tuple[str, ...] = (COLLEGE,)) -> DeclareOrganisation:
    return DeclareOrganisation(
        municipalities=[DeclaredMunicipality(name=n, controllers=list(controllers)) for n in names],
        fg=DeclaredFG(name="F. van Gelder", contact="fg@blnp.nl", municipalities=list(names)),
    )


def employee(town: str) -> Actor:
    return Actor.with_grants(f"medewerker@{town.lower()}.nl", [Grant(Role.EMPLOYEE, town)])


def test_declared_once_and_declaring_the_same_again_records_nothing(app):
    assert app.organisation() is None
    assert app.declare_organisation(towns("Leusden", "Putten"), operator=OPERATOR) == 3
    size = app.recorder.ledger_size()
    assert app.declare_organisation(towns("Leusden", "Putten"), operator=OPERATOR) == 0
    assert app.recorder.ledger_size() == size
    organisation = app.organisation()
    assert organisation.controllers == {"Leusden": [COLLEGE], "Putten": [COLLEGE]}
    assert isinstance(organisation.fg_name, PersonalData)
    assert organisation.fg_name.value == "F. van Gelder"
    assert organisation.fg_municipalities == ["Leusden", "Putten"]


def test_a_new_controller_and_a_new_fg_are_recorded_beside_what_is_known(app):
    app.declare_organisation(towns("Leusden"), operator=OPERATOR)
    wider = towns("Leusden", controllers=(COLLEGE, "burgemeester"))
    wider = wider.model_copy(
        update={
            "fg": DeclaredFG(name="G. Smit", contact="fg@leusden.nl", municipalities=["Leusden"])
        }
    )
    assert app.declare_organisation(wider, operator=OPERATOR) == 2
    organisation = app.organisation()
    assert organisation.controllers["Leusden"] == [COLLEGE, "burgemeester"]
    assert organisation.fg_contact.value == "fg@leusden.nl"


def test_an_fg_for_a_municipality_not_declared_is_refused_and_nothing_recorded(app):
    declaration = DeclareOrganisation(
        municipalities=[DeclaredMunicipality(name="Leusden", controllers=[COLLEGE])],
        fg=DeclaredFG(name="F. van Gelder", contact="fg@blnp.nl", municipalities=["Nijkerk"]),
    )
    with pytest.raises(
        UnknownOwner, match="no municipality 'Nijkerk' is declared; declared: Leusden"
    ):
        app.declare_organisation(declaration, operator=OPERATOR)
    assert app.recorder.ledger_size() == 0


def test_records_for_an_unknown_municipality_or_controller_are_refused_with_the_known_ones(app):
    app.declare_organisation(towns("Leusden", "Putten"), operator=OPERATOR)
    size = app.recorder.ledger_size()
    with pytest.raises(UnknownOwner, match="declared: Leusden, Putten"):
        app.execute(
            ReportIncident(municipality="leusden", controller=COLLEGE, summary="phishing"),
            employee("leusden"),
        )
    with pytest.raises(
        UnknownOwner, match=f"Leusden declares no controller 'raad'; declared: {COLLEGE}"
    ):
        app.execute(
            ReportIncident(municipality="Leusden", controller="raad", summary="phishing"),
            employee("Leusden"),
        )
    privacy = Actor.with_grants("pb@nijkerk.nl", [Grant(Role.PRIVACY_OFFICER, "Nijkerk")])
    for command in (
        RequestFGAdvice(municipality="Nijkerk", about=SOME_RECORD, question="melden?"),
        ErasePersonalData(
            municipality="Nijkerk",
            subject=SOME_RECORD,
            ground=ErasureGround.ERASURE_REQUEST,
            reference="verzoek 1",
        ),
    ):
        with pytest.raises(UnknownOwner, match="no municipality 'Nijkerk'"):
            app.execute(command, privacy)
    assert app.recorder.ledger_size() == size
    app.execute(
        ReportIncident(municipality="Leusden", controller=COLLEGE, summary="phishing"),
        employee("Leusden"),
    )
    assert app.recorder.ledger_size() == size + 1


def test_a_ledger_that_never_declared_its_organisation_accepts_its_owners_as_before(app):
    app.execute(
        ReportIncident(municipality="Leusden", controller=COLLEGE, summary="phishing"),
        employee("Leusden"),
    )
    assert app.recorder.ledger_size() == 1


def test_a_municipality_s_contact_is_recorded_once_and_given_to_its_register(app):
    """Art. 30(1)(a): the controller's contact details, and the FG's of the municipalities it
    serves; a changed contact is recorded anew, the same one is not."""
    declared = DeclareOrganisation(
        municipalities=[
            DeclaredMunicipality(
                name="Leusden", controllers=[COLLEGE], contact="Postbus 150, 3830 AD Leusden"
            ),
            DeclaredMunicipality(name="Putten", controllers=[COLLEGE]),
        ],
        fg=DeclaredFG(name="F. van Gelder", contact="fg@blnp.nl", municipalities=["Leusden"]),
    )
    assert app.declare_organisation(declared, operator=OPERATOR) == 4
    assert app.declare_organisation(declared, operator=OPERATOR) == 0
    leusden = app.register_contacts("Leusden")
    assert (leusden.controller, leusden.fg_name, leusden.fg_contact) == (
        "Postbus 150, 3830 AD Leusden",
        "F. van Gelder",
        "fg@blnp.nl",
    )
    putten = app.register_contacts("Putten")  # no contact declared, and another FG's town
    assert (putten.controller, putten.fg_name, putten.fg_contact) == ("", "", "")

    moved = declared.model_copy(
        update={
            "municipalities": [
                DeclaredMunicipality(
                    name="Leusden", controllers=[COLLEGE], contact="privacy@leusden.nl"
                )
            ]
        }
    )
    assert app.declare_organisation(moved, operator=OPERATOR) == 1
    assert app.register_contacts("Leusden").controller == "privacy@leusden.nl"
