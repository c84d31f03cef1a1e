"""One table gives every domain value its Dutch and its English text."""

from __future__ import annotations

import importlib
import pkgutil
from enum import StrEnum

import pytest

import domain
from domain.authorization import Command, Role
from domain.labels import LABELS, label, parse_role, role_code

# Permission codes, not domain values: the API and CLI show them as they are.
NOT_SHOWN = {Command}


def _domain_values() -> list[type[StrEnum]]:
    """Every enumeration the domain defines: a new one has its texts or this test says so."""
    kinds: list[type[StrEnum]] = []
    for module in pkgutil.iter_modules(domain.__path__):
        found = importlib.import_module(f"domain.{module.name}")
        kinds += [
            kind
            for kind in vars(found).values()
            if isinstance(kind, type)
            and issubclass(kind, StrEnum)
            and kind.__module__ == found.__name__
            and kind not in NOT_SHOWN
        ]
    return list(dict.fromkeys(kinds))  # a module may bind one under two names


SHOWN = _domain_values()


def test_every_value_shown_has_a_dutch_and_an_english_text():
    missing = [f"{kind.__name__}.{v.name}" for kind in SHOWN for v in kind if v not in LABELS]
    assert missing == []
    for value, (dutch, english) in LABELS.items():
        assert dutch == value.value  # the Dutch text is the stored value
        assert english.strip()


def test_a_stored_value_names_one_thing():
    values = [str(v) for kind in SHOWN for v in kind]
    assert len(values) == len(set(values))


def test_labels_by_language_and_user_text_as_it_is():
    assert label("art. 17 vergetelheid", "en") == "art. 17 erasure"
    assert label("art. 17 vergetelheid", "nl") == "art. 17 vergetelheid"
    assert label("hoog", "en") == "high"
    assert label("college van burgemeester en wethouders", "en") == (
        "college van burgemeester en wethouders"
    )


@pytest.mark.parametrize("text", ["FG", "fg", "functionaris gegevensbescherming", " Fg "])
def test_a_role_is_known_by_its_code_and_its_dutch_label(text):
    assert parse_role(text) is Role.FG
    assert role_code(Role.FG) == "FG"


def test_an_unknown_role_is_refused_with_the_codes():
    with pytest.raises(ValueError, match="PRIVACY_OFFICER"):
        parse_role("baas")
