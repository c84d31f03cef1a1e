"""A realistic sample history, recorded through the application service.

Four municipalities that share one FG (seed 002: Bunschoten, Leusden, Nijkerk, Putten)
keep their registers of processing activities in Bewijslast.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from domain.application import Bewijslast
from domain.processing import ProcessingActivity

MUNICIPALITIES = ("Bunschoten", "Leusden", "Nijkerk", "Putten")
ACTIVITIES = (
    ("Basisregistratie Personen bijhouden", ["Bijhouden van de BRP"], "art. 6(1)(e) AVG, Wet BRP"),
    (
        "Verstrekken van bijstand",
        ["Uitvoering Participatiewet"],
        "art. 6(1)(c) AVG, Participatiewet",
    ),
    ("Heffen en innen van belastingen", ["Lokale heffingen"], "art. 6(1)(c) AVG, Gemeentewet"),
    ("Behandelen van bezwaarschriften", ["Awb-bezwaarprocedure"], "art. 6(1)(e) AVG, Awb"),
    (
        "Cameratoezicht openbare ruimte",
        ["Handhaving openbare orde"],
        "art. 6(1)(e) AVG, art. 151c Gemeentewet",
    ),
)


def record_demo(app: Bewijslast, start: datetime | None = None) -> Counter[str]:
    """Record the sample and return how many events of each kind were recorded."""
    moment = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    recorded: Counter[str] = Counter()
    for m, municipality in enumerate(MUNICIPALITIES):
        privacy_officer = f"privacybeheerder@{municipality.lower()}.nl"
        activities = []
        for a, (name, purposes, basis) in enumerate(ACTIVITIES):
            activity = ProcessingActivity(
                municipality=municipality,
                controller="college van burgemeester en wethouders",
                name=name,
                purposes=purposes,
                legal_basis=basis,
                valid_from=moment + timedelta(days=m, hours=a),
                actor=privacy_officer,
            )
            activities.append(activity)
        activities[1].amend(
            changes={"purposes": ["Uitvoering Participatiewet", "Terugvordering"]},
            valid_from=moment + timedelta(days=30 + m),
            actor=privacy_officer,
        )
        if m % 2:
            activities[4].retire(
                reason="Cameratoezicht beëindigd na evaluatie",
                valid_from=moment + timedelta(days=60 + m),
                actor=privacy_officer,
            )
        recordings = app.save(*activities)
        recorded.update(type(r.domain_event).__qualname__ for r in recordings)
    return recorded
