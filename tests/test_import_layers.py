"""The import graph: no circles, no import from a lower layer up, and each folder a size a reader can scan.

Layers, lowest first: depqueue (the generic library), the wndchrm engine (``wndchrm``, science with no
queue in it), services.kinds (job kinds), the roles (services.worker, services.submitter,
services.monitor) and services.common. depqueue imports nothing of the rest; the engine imports no
service; the kinds import no role; no role imports another. Inside depqueue the folders are layers too:
``wire`` under ``config`` under ``legacy`` under ``worker`` under ``client`` under the pool; inside the
engine, ``formats`` under ``features`` under ``classifier`` under ``reports`` under ``cli``. Everything
outside depqueue imports only the names its front door (``depqueue/__init__.py``) exports.

Imports inside functions count; imports under ``if TYPE_CHECKING:`` (types only, never run) do not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import depqueue

ROOT = Path(__file__).resolve().parents[1]
OURS = ("depqueue", "wndchrm", "services")
ROLES = ("services.worker", "services.submitter", "services.monitor")
#: depqueue's layers, lowest first; a module may import its own layer and the ones below it.
DEPQUEUE_LAYERS = (
    ("depqueue.errors", "depqueue.defaults", "depqueue.cpus"),
    ("depqueue.wire",),
    ("depqueue.config",),
    ("depqueue.legacy",),
    ("depqueue.worker",),
    ("depqueue.client",),
    ("depqueue.pool",),
    ("depqueue",),
)
#: The engine's subpackages, lowest first, above its own top-level modules (data root, options).
ENGINE_LAYERS = ("wndchrm.formats", "wndchrm.features", "wndchrm.classifier", "wndchrm.reports", "wndchrm.cli",
                 "wndchrm.__main__")
MAX_MODULES_PER_FOLDER = 15


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> list[Path]:
    return [path for package in OURS if ROOT.joinpath(package).is_dir()
            for path in ROOT.joinpath(package).rglob("*.py")]


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:``."""
    found: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def import_statements() -> dict[str, list[tuple[str, list[str]]]]:
    """Every module of ours, with each run-time import of ours: (module, names taken from it)."""
    found: dict[str, list[tuple[str, list[str]]]] = {}
    for path in sources():
        statements = []
        for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                statements.append((node.module, [alias.name for alias in node.names]))
            elif isinstance(node, ast.Import):
                statements.extend((alias.name, []) for alias in node.names)
        found[module_name(path)] = [(m, names) for m, names in statements if m.split(".")[0] in OURS]
    return found


def imports() -> dict[str, set[str]]:
    """Every module of ours, with the modules of ours it imports."""
    statements = import_statements()
    graph: dict[str, set[str]] = {}
    for name, taken in statements.items():
        found: set[str] = set()
        for module, names in taken:
            submodules = {f"{module}.{n}" for n in names} & set(statements)
            # ``from package import module``: the module, not the package's front door
            found |= submodules if submodules and len(submodules) == len(names) else {module, *submodules}
        graph[name] = found
    return {name: {m for m in deps if m in graph} - {name} for name, deps in graph.items()}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def depqueue_layer(module: str) -> int:
    """The layer of a depqueue module: the most specific entry of DEPQUEUE_LAYERS it is within."""
    matches = [(len(prefix), rank) for rank, layer in enumerate(DEPQUEUE_LAYERS) for prefix in layer
               if within(module, prefix)]
    return max(matches)[1]


def engine_layer(module: str) -> int:
    return next((rank + 1 for rank, layer in enumerate(ENGINE_LAYERS) if within(module, layer)), 0)


def test_no_import_goes_up_a_layer() -> None:
    wrong = []
    for module, deps in imports().items():
        for dep in deps:
            if within(module, "depqueue") and not within(dep, "depqueue"):
                wrong.append((module, dep))
            if within(module, "wndchrm") and within(dep, "services"):
                wrong.append((module, dep))
            if within(module, "services.kinds") and any(within(dep, role) for role in (*ROLES, "services.common")):
                wrong.append((module, dep))
            for role in ROLES:
                if within(module, role) and any(within(dep, other) for other in ROLES if other != role):
                    wrong.append((module, dep))
    assert not wrong


def test_depqueue_folders_are_layers() -> None:
    wrong = [(module, dep) for module, deps in imports().items() if within(module, "depqueue")
             for dep in deps if within(dep, "depqueue") and depqueue_layer(dep) > depqueue_layer(module)]
    assert not wrong


def test_engine_folders_are_layers() -> None:
    wrong = [(module, dep) for module, deps in imports().items() if within(module, "wndchrm")
             for dep in deps if within(dep, "wndchrm") and engine_layer(dep) > engine_layer(module)]
    assert not wrong


def test_everything_else_imports_only_what_depqueue_exports() -> None:
    exported = set(depqueue.__all__)
    wrong = [(module, imported, names) for module, statements in import_statements().items()
             if not within(module, "depqueue") for imported, names in statements
             if within(imported, "depqueue") and (imported != "depqueue" or not set(names) <= exported)]
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


def test_no_folder_holds_more_than_15_modules() -> None:
    folders = {path.parent for path in sources()}
    crowded = {str(folder.relative_to(ROOT)): n for folder in folders
               if (n := len(list(folder.glob("*.py")))) > MAX_MODULES_PER_FOLDER}
    assert not crowded


def test_every_module_stays_under_300_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in [*ROOT.joinpath("depqueue").rglob("*.py"),
                                                  *ROOT.joinpath("wndchrm").rglob("*.py"),
                                                  *ROOT.joinpath("services", "worker").rglob("*.py"),
                                                  *ROOT.joinpath("services", "submitter").rglob("*.py"),
                                                  *ROOT.joinpath("services", "monitor").rglob("*.py")]
            if (n := len(p.read_text().splitlines())) > 300}
    assert not long
