"""The house's import contract (docs/ARCHITECTURE.md): every import of every module, also those
inside functions and under ``TYPE_CHECKING``, points inwards.

    ledger/                  the standard library and cryptography, nothing else
    domain/                  domain/, eventsourcing, pydantic
    projections/             projections/ and domain/, eventsourcing, pydantic
    adapters/config.py,
    adapters/signing_keys.py the configuration only
    adapters/persistence/    never services, the bus, the witness, bootstrap or entry points
    adapters/services/       never the bus, the witness, bootstrap or entry points, and no web
                             or bus framework
    adapters/bootstrap.py    anything but the entry points
    adapters/entrypoints/    anything; nothing but an entry point imports an entry point
"""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("adapters", "domain", "ledger", "projections")
FRAMEWORKS = {"fastapi", "fastapi_offline", "faststream", "starlette", "uvicorn", "pamqp"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports, as a module name
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def house_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def imports_of(module: str, source: str, known: set[str], *, package: bool = False) -> list[Import]:
    """Every import in ``source``, wherever it stands; ``from a import b`` is ``a.b`` when that
    is a module of the house, else ``a``."""
    found = []
    for node in import_statements(source):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if package else module.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(Import(module, sub if sub in known else base, node.lineno))
    return found


@functools.cache
def import_statements(source: str) -> tuple[ast.Import | ast.ImportFrom, ...]:
    """The import statements of ``source``, parsed once per source: each test walks the whole
    house again, and parsing it is most of the work (read only, never changed)."""
    return tuple(
        n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import | ast.ImportFrom)
    )


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violation(imported: Import) -> str | None:
    """Why this import breaks the contract, or None."""
    module, target = imported.module, imported.target
    top = target.split(".")[0]
    if within(target, "adapters.entrypoints") and not within(module, "adapters.entrypoints"):
        return "only an entry point imports an entry point"
    if within(target, "adapters.bootstrap") and not within(module, "adapters.entrypoints"):
        return "only the entry points call the composition root"
    if within(module, "ledger"):
        if top not in ("ledger", "cryptography") and top not in sys.stdlib_module_names:
            return "ledger/ imports only the standard library and cryptography"
    elif within(module, "domain"):
        if top in ("adapters", "projections", "ledger") or top in FRAMEWORKS:
            return "domain/ imports no adapters, projections, ledger or framework"
    elif within(module, "projections"):
        if top in ("adapters", "ledger") or top in FRAMEWORKS:
            return "projections/ import only domain/"
    elif within(module, "adapters.config", "adapters.signing_keys"):
        if top == "adapters" and not within(target, "adapters.config"):
            return "the configuration depends on no other adapter"
    elif within(module, "adapters.persistence"):
        if within(target, "adapters.services", "adapters.bus", "adapters.witness", "adapters.demo"):
            return "persistence never imports services, the bus or the witness"
    elif within(module, "adapters.services"):
        if within(target, "adapters.bus", "adapters.witness", "adapters.demo"):
            return "services never import the bus or the witness"
        if top in FRAMEWORKS:
            return f"services use no web or bus framework ({top})"
    return None


def violations(modules: dict[str, str]) -> Iterator[str]:
    """``module name -> source`` in, one line per broken rule out."""
    known = set(modules)
    packages = {name for name, path in house_modules().items() if path.name == "__init__.py"}
    for module, source in sorted(modules.items()):
        for imported in imports_of(module, source, known, package=module in packages):
            why = violation(imported)
            if why is not None:
                yield f"{module}:{imported.line} imports {imported.target}: {why}"


@functools.cache
def _sources() -> tuple[tuple[str, str], ...]:
    return tuple((name, path.read_text(encoding="utf-8")) for name, path in house_modules().items())


def the_house() -> dict[str, str]:
    """Every module of the house by name, with its source (a copy a test may add to)."""
    return dict(_sources())


def test_every_import_of_the_house_points_inwards():
    assert list(violations(the_house())) == []


def test_the_contract_reads_the_whole_house():
    """Not vacuous: the walk sees the rooms and their imports, also inside functions."""
    house = the_house()
    assert {"adapters.bootstrap", "adapters.entrypoints.serve", "ledger.store"} <= set(house)
    serve = imports_of(
        "adapters.entrypoints.serve", house["adapters.entrypoints.serve"], set(house)
    )
    assert "adapters.entrypoints.api.app" in {i.target for i in serve}  # imported in a function


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        ("ledger.bad", "import fastapi\n", "ledger/ imports only the standard library"),
        ("ledger.bad", "from adapters.config import Settings\n", "ledger/ imports only"),
        ("domain.bad", "from projections.base import ReadModel\n", "domain/ imports no"),
        ("projections.bad", "from adapters.persistence.sqldb import Cursor\n", "only domain"),
        (
            "adapters.services.bad",
            "def later():\n    from fastapi import FastAPI\n",
            "no web or bus framework (fastapi)",
        ),
        (
            "adapters.services.bad",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import faststream\n",
            "no web or bus framework (faststream)",
        ),
        ("adapters.services.bad", "from adapters.bus.relay import BATCH\n", "never import the bus"),
        (
            "adapters.services.bad",
            "from adapters.bootstrap import open_application\n",
            "only the entry points call the composition root",
        ),
        (
            "adapters.persistence.bad",
            "from adapters.services.checkpointer import Checkpointer\n",
            "persistence never imports services",
        ),
        (
            "adapters.persistence.bad",
            "from adapters.entrypoints.cli import main\n",
            "only an entry point imports an entry point",
        ),
        ("adapters.config_bad", "from adapters.entrypoints import serve\n", "only an entry point"),
        (
            "adapters.signing_keys",
            "from adapters.persistence.sqldb import Database\n",
            "the configuration depends on no other adapter",
        ),
    ],
)
def test_a_module_that_breaks_the_contract_is_named(module: str, source: str, broken: str):
    house = the_house()
    house[module] = source
    found = [line for line in violations(house) if line.startswith(f"{module}:")]
    assert len(found) == 1
    assert broken in found[0]


def test_an_entry_point_may_import_every_room():
    house = the_house()
    house["adapters.entrypoints.bad"] = (
        "import fastapi\nfrom adapters.bootstrap import open_application\n"
        "from adapters.bus.relay import BATCH\nfrom adapters.entrypoints.cli import main\n"
    )
    assert not [line for line in violations(house) if line.startswith("adapters.entrypoints.bad")]
