"""A complete AP notification form (AVG art. 33(3)), as a client sends it."""

from __future__ import annotations

from typing import Any

from domain.incidents import APForm

AP_FORM: dict[str, Any] = {
    "natures": ["vertrouwelijkheid"],
    "nature": "brief met persoonsgegevens naar een verkeerd adres",
    "subject_categories": ["inwoners"],
    "approx_subjects": 1,
    "record_categories": ["naam", "adres"],
    "approx_records": 1,
    "fg_contact": "FG, fg@example.nl",
    "likely_consequences": "inbreuk op de persoonlijke levenssfeer",
    "measures": "ontvanger gevraagd de brief terug te sturen",
    "phased": "",
}


def ap_form(**changes: Any) -> APForm:
    return APForm.model_validate({**AP_FORM, **changes})


# A decision taken without FG advice says why (AVG art. 38(1)), as a client sends it.
URGENT: dict[str, Any] = {
    "reason": "spoed",
    "explanation": "de FG was binnen 72 uur niet bereikbaar",
}
