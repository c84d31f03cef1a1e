"""requirements.lock pins what pyproject.toml asks for, and this environment is what it pins.

A fresh machine installs the lock (README, scripts/test-all), so CI tests exactly what a
newcomer gets; pyproject.toml keeps ranges for those who use Bewijslast as a library.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def locked() -> dict[str, tuple[str, Marker | None]]:
    """The lock's pins: name -> (version, the marker under which it applies)."""
    pins: dict[str, tuple[str, Marker | None]] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if not line or line.startswith((" ", "#")):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        pins[canonicalize_name(requirement.name)] = (specifier.version, requirement.marker)
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + project["optional-dependencies"]["test"]
    return [Requirement(name) for name in names]


def test_every_declared_dependency_is_pinned_within_its_range():
    pins = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is in pyproject.toml but not in requirements.lock"
        pinned, _ = pins[name]
        assert requirement.specifier.contains(pinned, prereleases=True), (
            f"requirements.lock pins {name}=={pinned}, outside pyproject.toml's"
            f" {requirement.specifier}: run scripts/lock"
        )


def test_this_environment_has_exactly_the_locked_versions():
    wrong = []
    for name, (pinned, marker) in locked().items():
        if marker is not None and not marker.evaluate():
            continue
        try:
            installed = version(name)
        except PackageNotFoundError:
            wrong.append(f"{name} missing (lock: {pinned})")
            continue
        if installed != pinned:
            wrong.append(f"{name} {installed} (lock: {pinned})")
    assert not wrong, "installed versions differ from requirements.lock: " + ", ".join(wrong)
