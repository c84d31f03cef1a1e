"""The CloudEvents ``source`` names the system as the NL GOV profile asks: by the
organisation's OIN, configurable, with a default of the same form."""

from __future__ import annotations

import pytest

from adapters.bus.messages import checkpoint_event
from adapters.config import DEFAULT_EVENT_SOURCE, EVENT_SOURCE, ConfigurationError, Settings
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.note import NoteSigner

BUNSCHOTEN = "urn:nld:oin:00000001001589623000:systeem:bewijslast"


def test_the_default_source_is_an_nl_gov_urn():
    assert EVENT_SOURCE.match(DEFAULT_EVENT_SOURCE)
    assert Settings.from_environ({}).event_source == DEFAULT_EVENT_SOURCE


def test_a_deployment_names_its_own_oin_and_the_events_carry_it():
    settings = Settings.from_environ({"BEWIJSLAST_EVENT_SOURCE": BUNSCHOTEN})
    assert settings.event_source == BUNSCHOTEN
    origin = "ledger.bunschoten.nl/bewijslast"
    note = sign_checkpoint(Checkpoint(origin, 0, bytes(32)), NoteSigner.generate(origin))
    assert checkpoint_event(note, settings.event_source).source == BUNSCHOTEN


@pytest.mark.parametrize(
    "wrong",
    [
        "https://ledger.bunschoten.nl/bewijslast",  # a URL, as before
        "urn:nld:oin:1234:systeem:bewijslast",  # an OIN has twenty digits
        "urn:nld:oin:00000001001589623000:bewijslast",  # no systeem part
    ],
)
def test_a_source_not_of_the_profile_is_refused_with_its_form(wrong):
    with pytest.raises(ConfigurationError, match="urn:nld:oin:<20-digit OIN>:systeem:<name>"):
        Settings.from_environ({"BEWIJSLAST_EVENT_SOURCE": wrong})
