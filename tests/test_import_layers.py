"""The import graph: no circles, and no import from a lower layer up.

Layers, lowest first: depqueue (the generic library), wndchrm (the image-analysis engine), services.kinds
(job kinds), the roles (services.worker, services.submitter, services.monitor) and services.common.
depqueue imports neither wndchrm nor services; wndchrm imports nothing from services, and from depqueue
only what the package itself exports (as the kinds do); the kinds import no role; no role imports another.
Inside wndchrm, its subpackages are layers of their own (ENGINE_LAYERS). Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("services.worker", "services.submitter", "services.monitor")
OURS = ("depqueue", "wndchrm", "services")
#: wndchrm's subpackages, lowest first, above its own top-level modules (data root, options).
ENGINE_LAYERS = ("wndchrm.formats", "wndchrm.features", "wndchrm.classifier", "wndchrm.reports", "wndchrm.cli",
                 "wndchrm.__main__")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every module of depqueue, wndchrm and services, with the modules of ours it imports."""
    graph: dict[str, set[str]] = {}
    for path in [p for package in OURS for p in ROOT.joinpath(package).rglob("*.py")]:
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[module_name(path)] = {m for m in found if m.split(".")[0] in OURS}
    return {name: {m for m in deps if m in graph} - {name} for name, deps in graph.items()}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def engine_layer(module: str) -> int:
    return next((i + 1 for i, layer in enumerate(ENGINE_LAYERS) if within(module, layer)), 0)


def test_no_import_goes_up_a_layer() -> None:
    wrong = []
    for module, deps in imports().items():
        for dep in deps:
            if within(module, "depqueue") and (within(dep, "services") or within(dep, "wndchrm")):
                wrong.append((module, dep))
            if within(module, "wndchrm") and within(dep, "services"):
                wrong.append((module, dep))
            if within(module, "wndchrm") and within(dep, "wndchrm") and engine_layer(dep) > engine_layer(module):
                wrong.append((module, dep))
            # depqueue's own modules may move: the engine and the kinds use only the names it exports.
            if (within(module, "wndchrm") or within(module, "services.kinds")) and within(dep, "depqueue") \
                    and dep != "depqueue":
                wrong.append((module, dep))
            if within(module, "services.kinds") and any(within(dep, role) for role in (*ROLES, "services.common")):
                wrong.append((module, dep))
            for role in ROLES:
                if within(module, role) and any(within(dep, other) for other in ROLES if other != role):
                    wrong.append((module, dep))
    assert not wrong


def test_no_import_circles() -> None:
    graph = imports()
    # A package's __init__ importing its own modules is how packages re-export; the rest must form a DAG.
    edges = {m: {d for d in deps if not (graph.get(d) is not None and within(m, d) and m != d)}
             for m, deps in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(edges[node]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep):], dep] if dep in path else [node, dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert not cycles


def test_every_module_stays_under_300_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in [*ROOT.joinpath("depqueue").rglob("*.py"),
                                                  *ROOT.joinpath("wndchrm").rglob("*.py"),
                                                  *ROOT.joinpath("services", "worker").rglob("*.py"),
                                                  *ROOT.joinpath("services", "submitter").rglob("*.py"),
                                                  *ROOT.joinpath("services", "monitor").rglob("*.py")]
            if (n := len(p.read_text().splitlines())) > 300}
    assert not long


def test_no_engine_folder_holds_more_than_15_modules() -> None:
    crowded = {str(folder.relative_to(ROOT)): n for folder in [ROOT / "wndchrm", *ROOT.joinpath("wndchrm").rglob("*/")]
               if (n := len(list(folder.glob("*.py")))) > 15}
    assert not crowded
