"""Every read model, in the order they are run."""

from __future__ import annotations

from projections.base import ReadModel
from projections.dpia import DPIARegister
from projections.erasures import ErasureRegister
from projections.fg_advice import FGAdviceRegister
from projections.incidents import IncidentRegister
from projections.register import ProcessingRegister
from projections.reporting import SentReports
from projections.requests import RequestRegister
from projections.retention import RetentionRegister


def all_projections() -> list[ReadModel]:
    return [
        ProcessingRegister(),
        IncidentRegister(),
        RequestRegister(),
        FGAdviceRegister(),
        ErasureRegister(),
        DPIARegister(),
        RetentionRegister(),
        SentReports(),
    ]
