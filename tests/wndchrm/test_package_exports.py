"""The engine's subpackages name their public functions, and naming them imports nothing heavy."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from wndchrm._lazy import type_checking_imports

ROOT = Path(__file__).resolve().parents[2]
SUBPACKAGES = ["wndchrm.formats", "wndchrm.features", "wndchrm.classifier", "wndchrm.reports", "wndchrm.cli"]


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_every_name_a_subpackage_exports_is_its_modules_own(name: str) -> None:
    package = importlib.import_module(name)
    where = type_checking_imports(Path(str(package.__file__)))
    assert sorted(package.__all__) == sorted(where) and package.__all__
    for export, module in where.items():
        assert module.startswith(name + ".")
        assert getattr(package, export) is getattr(importlib.import_module(module), export)
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018


def test_importing_the_subpackages_loads_no_numpy() -> None:
    # The submitter imports modules of formats/ and cli/ to check jobs; their packages must stay light.
    code = f"import sys, {', '.join(SUBPACKAGES)}\nprint('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          check=True)
    assert done.stdout.strip() == "False"


def test_a_submodule_is_still_imported_by_its_name() -> None:
    from wndchrm.reports import printout  # a module, although printout.printout is a function

    assert printout.__name__ == "wndchrm.reports.printout"
