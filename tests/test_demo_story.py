"""The demo's story is data (adapters/demo/story.toml): what it says is checked when it is
read, and played through the application's commands by the people of its cast."""

from __future__ import annotations

from datetime import datetime

import pytest

from adapters.config import database_env
from adapters.demo import StoryInTheFuture, record_demo
from adapters.demo.story import load_story
from adapters.persistence.personal_data import ErasedAsSubject, PersonalDataAsCiphertext
from adapters.persistence.subject_keys import MasterKey, open_key_store
from domain.application import Bewijslast
from domain.deadlines import AMSTERDAM
from domain.incidents import Impact, Incident

PHISHING = """
start = 2024-01-08T09:00:00
operator = "bewijslast demo"
controller = "college van burgemeester en wethouders"
controllers = ["college van burgemeester en wethouders"]

[fg]
login = "fg@blnp.nl"
name = "F. van Gelder"
contact = "privacy@blnp.nl"

[cast]
employee = "medewerker.burgerzaken"
ciso = "ciso"

[[municipality]]
name = "Bunschoten"
domain = "bunschoten.nl"
scenes = ["phishing"]
[municipality.facts]
impact = "laag"

[[scene.phishing]]
do = "ReportIncident"
by = "employee"
creates = "incident"
summary = "Phishingmail ontvangen, niet op de link geklikt"

[[scene.phishing]]
do = "TriageIncident"
by = "ciso"
on = "incident"
wait = { hours = 1 }
impact = { fact = "impact" }
"""


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    keys = open_key_store(url, MasterKey.generate())
    return Bewijslast(
        env=database_env(url), transcodings=[PersonalDataAsCiphertext(keys), ErasedAsSubject()]
    )


def test_a_story_is_played_by_its_cast_at_its_own_moments(app):
    recorded = record_demo(app, load_story(PHISHING))
    assert (recorded["Incident.Reported"], recorded["Incident.Triaged"]) == (1, 1)
    incident = next(
        app.repository.get(n.originator_id)
        for n in app.recorder.select_notifications(1, limit=100)
        if n.topic.endswith("Incident.Reported")
    )
    assert isinstance(incident, Incident)
    assert incident.impact == Impact.LOW  # the municipality's fact
    assert incident.triaged_at == datetime(2024, 1, 8, 10, 0, tzinfo=AMSTERDAM)  # an hour on
    triaged = app.repository.event_store.get(incident.id)
    assert [e.actor for e in triaged] == [
        "medewerker.burgerzaken@bunschoten.nl",
        "ciso@bunschoten.nl",
    ]


@pytest.mark.parametrize(
    ("mistake", "said"),
    [
        (('do = "TriageIncident"', 'do = "TriageIncidents"'), "no command TriageIncidents"),
        (("impact = {", "impakt = {"), "TriageIncident has no field impakt"),
        (('on = "incident"', 'on = "incidnet"'), r"uses \['incidnet'\] before a step creates it"),
        (('fact = "impact"', 'fact = "impakt"'), "Bunschoten states no fact 'impakt'"),
        (('by = "ciso"', 'by = "cfo"'), "no one in the cast is 'cfo'"),
        (('scenes = ["phishing"]', 'scenes = ["phishing", "fire"]'), "'fire', which there is not"),
        (("wait = { hours = 1 }", 'at = { since = "aware" }'), "'aware', which no step marks"),
        (("wait = { hours = 1 }", "wait = { hours = -1 }"), "greater than or equal to 0"),
        (("2024-01-08T09:00:00", "2024-01-08T09:00:00+01:00"), "without an offset"),
    ],
)
def test_a_mistake_in_the_story_is_refused_when_it_is_read(mistake, said):
    old, new = mistake
    assert old in PHISHING
    with pytest.raises(ValueError, match=said):
        load_story(PHISHING.replace(old, new, 1))


def test_a_story_that_has_not_happened_yet_is_refused(app):
    with pytest.raises(StoryInTheFuture):
        record_demo(app, load_story(PHISHING.replace("2024-01-08", "2999-01-08")))
    assert app.clock().year < 2999  # the application has its own clock back


def test_the_demo_story_has_every_municipality_play_its_scenes():
    story = load_story()
    assert story.municipalities == ("Bunschoten", "Leusden", "Nijkerk", "Putten")
    # Leusden and Nijkerk also withdraw a notification; Leusden and Putten retire a register
    # entry; Putten notifies the AP late.
    steps = {
        town.name: [s for n in town.scenes for s in story.steps(town, n)]
        for town in story.municipality
    }
    withdrawn = {
        name
        for name, played in steps.items()
        if any(s.do == "WithdrawAPNotification" for s in played)
    }
    retired = {
        name
        for name, played in steps.items()
        if any(s.do == "RetireProcessingActivity" for s in played)
    }
    assert (withdrawn, retired) == ({"Leusden", "Nijkerk"}, {"Leusden", "Putten"})
