"""A reconstruction's cost, and its bound: a whole read model replays every event of its kind
up to the cut-off, so it is capped (``adapters.services.reconstruction.MAX_EVENTS``); a record's
reconstruction fetches only that record's entries, whatever the ledger's size.

Measured on SQLite against a baseline in the same run: reading and decoding the same events
without projecting them (what any replay costs at least). Printed: the whole read model at the
cap as a ratio to that baseline; one record's reconstruction as a ratio to the whole; and how
long the refusal of a whole read model past the cap takes (it stops at the cap, it does not
read on).
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from adapters.bootstrap import open_application, signer_of
from adapters.config import Settings
from adapters.persistence.subject_keys import MasterKey
from adapters.services import reconstruction
from adapters.services.reconstruction import TooMuchToReplay, reconstruct
from adapters.signing_keys import generate_key_files
from bench.common import machine, median, parser, timed
from domain.deadlines import AMSTERDAM
from domain.incidents import Impact, Incident
from projections.incidents import IncidentRegister

ORIGIN = "bench.example/bewijslast"


def main() -> None:
    args = parser(__doc__.split("\n")[0]).parse_args()
    cap = reconstruction.MAX_EVENTS  # small enough for --quick too
    incidents = cap // 2  # two events each: at the cap exactly
    beyond = incidents // 2  # and as many events again past it
    print(machine())
    with tempfile.TemporaryDirectory() as home:
        keys = Path(home) / "keys"
        generate_key_files(ORIGIN, keys)
        MasterKey.generate_file(keys / "master.key")
        settings = Settings(
            f"sqlite:///{home}/b.db", ORIGIN, keys / "ledger.key", keys / "master.key"
        )
        app = open_application(settings)
        sign = signer_of(settings, app)
        at = datetime(2026, 3, 2, 9, tzinfo=AMSTERDAM)
        ids = []
        for i in range(incidents + beyond):
            incident = Incident(
                municipality=f"Gemeente {i % 20}",
                controller="college",
                summary=f"incident {i}",
                reported_at=at,
                actor="bench",
            )
            incident.triage(impact=Impact.LOW, significant=False, triaged_at=at, actor="bench")
            app.save(incident)
            ids.append(incident.id)
        projection = IncidentRegister()
        upto = 2 * incidents - 1
        runs = 1 if args.quick else 3

        def baseline() -> None:
            list(reconstruction._events(app, projection, upto))

        def whole() -> None:
            reconstruct(app, projection, upto=upto, sign=sign)

        def record() -> None:
            reconstruct(app, projection, upto=upto, record=str(ids[0]), sign=sign)

        def refused() -> None:
            try:
                reconstruct(app, projection, upto=2 * (incidents + beyond) - 1, sign=sign)
            except TooMuchToReplay:
                return
            raise AssertionError("past the cap, a whole read model must be refused")

        base = median([timed(baseline) for _ in range(runs)])
        whole_s = median([timed(whole) for _ in range(runs)])
        record_s = median([timed(record) for _ in range(runs)])
        refused_s = median([timed(refused) for _ in range(runs)])
        print(f"events replayed at the cap: {cap}")
        print(f"baseline, read and decode {cap} events: {base:.3f} s")
        print(f"whole read model at the cap: {whole_s:.3f} s ({whole_s / base:.1f}x baseline)")
        print(f"one record: {record_s:.4f} s ({record_s / whole_s:.4f}x the whole)")
        print(f"refused past the cap: {refused_s:.3f} s ({refused_s / base:.1f}x baseline)")
        app.close()


if __name__ == "__main__":
    main()
