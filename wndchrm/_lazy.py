"""Re-exports that import their module on first use, so importing one light module stays light.

Each subpackage's ``__init__`` names its public functions, as scikit-image's do, so a user writes
``wndchrm.formats.read_fit`` without knowing the file it lives in. Importing them all eagerly would make
``import wndchrm.formats.files`` (the submitter's check of a job's file names) load numpy and the image
libraries, which the submitter's image does not carry (tests/services/test_light_roles.py). So an
``__init__`` writes its re-exports once, as imports under ``if TYPE_CHECKING:`` (what mypy and a reader
see) with the same names in ``__all__``; :func:`attach` reads that block and serves each name from a
module ``__getattr__`` (PEP 562), importing its module on first use. scikit-image does the same with
lazy_loader and ``.pyi`` stubs; this is that idea in one file per package, with no dependency.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path


def attach(package: str, init_file: str, names: list[str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose ``__init__`` is ``init_file`` and whose
    ``__all__`` is ``names``: each name imported in its ``if TYPE_CHECKING:`` block, and no other."""
    where = type_checking_imports(Path(init_file))
    if set(where) != set(names):
        raise ImportError(f"{package}: __all__ and the imports under TYPE_CHECKING differ in "
                          f"{sorted(set(where) ^ set(names))}")
    clashes = [name for name in where if Path(init_file).with_name(f"{name}.py").exists()]
    if clashes:  # once its module is imported, the package attribute would be the module, not the name
        raise ImportError(f"{package}: re-exported names shadow its modules: {clashes}")

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value: object = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # later lookups find it without this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__


def type_checking_imports(init_file: Path) -> dict[str, str]:
    """Name -> module of every ``from MODULE import NAME`` directly under ``if TYPE_CHECKING:``."""
    found: dict[str, str] = {}
    for node in ast.parse(init_file.read_text(), str(init_file)).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.level == 0:
                    found.update({alias.asname or alias.name: stmt.module for alias in stmt.names})
    return found
