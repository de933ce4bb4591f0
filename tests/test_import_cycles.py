"""No import cycle anywhere in the package.

Two checks, each shown to catch a planted cycle first:
- static: every import of a package module that can run (at module level or inside a function, which Python runs
  at call time) is an edge; the graph over the package's modules must be acyclic. Imports under
  `if TYPE_CHECKING:` never run and are not edges (annotations only).
- at run time: each module is imported first, in a fresh interpreter, with `__import__` watched: importing a
  package module while it is still being initialised (the symptom of a cycle: a half-made module) fails.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from imports import import_targets, package_modules

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "datalicense"


# ------------------------------------------------------------------------------------------------- static


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: all of them but those under `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(package_dir: Path, package: str) -> dict[str, set[str]]:
    """{module: package modules it imports at run time}; the package itself is the module `package`."""
    files = package_modules(package_dir, package)  # subpackages too (datalicense.protocol, ...)
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        edges: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
            edges.update(import_targets(node, module, path.name == "__init__.py", files))
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle [a, b, ..., a] of the graph, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = dfs(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = dfs(start)
            if found:
                return found
    return None


# ------------------------------------------------------------------------------------------------ run time

WATCH = r'''
import builtins, importlib.util, json, pkgutil, sys
package, paths = sys.argv[1], sys.argv[2:]
sys.path[:0] = paths
mod = importlib.util.find_spec(package)
names = [package] + [m.name for m in pkgutil.walk_packages(mod.submodule_search_locations, package + ".")]
submodules = set(names)
found = []
real_import = builtins.__import__

def initialising(name):
    m = sys.modules.get(name)
    return m is not None and getattr(getattr(m, "__spec__", None), "_initializing", False)

def watched(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__", "?")
    try:
        target = importlib.util.resolve_name("." * level + name, (globals or {}).get("__package__")) if level else name
    except (ImportError, ValueError):
        target = name
    hit = []
    if target in submodules and target != package and initialising(target):
        hit.append(target)
    for item in fromlist or ():
        sub = f"{target}.{item}"
        if sub in submodules and initialising(sub):
            hit.append(sub)
        elif target == package and sub not in submodules and initialising(package):
            hit.append(f"{package} (for {item})")  # a name of the package's __init__, not made yet
    for h in hit:
        found.append(f"{importer} imports {h} while it is still being initialised")
    return real_import(name, globals, locals, fromlist, level)

builtins.__import__ = watched
report = {}
for first in names:
    for loaded in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[loaded]
    found.clear()
    try:
        importlib.import_module(first)
    except Exception as exc:  # an import error is reported too: a cycle often shows as one
        found.append(f"{type(exc).__name__}: {exc}")
    if found:
        report[first] = list(found)
print(json.dumps(report))
'''


def runtime_cycles(package: str, *paths: Path) -> dict[str, list[str]]:
    """{module imported first: what went wrong} over every module, in one fresh interpreter (the package's own
    modules are dropped from sys.modules before each, so each one's import is a first import)."""
    out = subprocess.run([sys.executable, "-c", WATCH, package, *map(str, paths)], capture_output=True, text=True,
                         timeout=300, cwd=paths[0])
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------- tests


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "cyclic"
    pkg.mkdir()
    for name, text in files.items():
        (pkg / name).write_text(text)
    return pkg


def test_the_checks_see_a_planted_cycle(tmp_path):
    pkg = _plant(tmp_path, {
        "__init__.py": "from .a import A\n",
        "a.py": "from . import b\nclass A: pass\n",
        "b.py": "from .a import A\n",  # a half-made module: ImportError at run time
        "c.py": "def f():\n    from .d import g\n    return g\n",  # a cycle through imports made at call time
        "d.py": "from typing import TYPE_CHECKING\nfrom .c import f\ndef g(): pass\nif TYPE_CHECKING:\n"
                "    from .e import E\n",
        "e.py": "from .d import g\nclass E: pass\n",  # d -> e only for annotations: not a cycle
    })
    graph = import_graph(pkg, "cyclic")
    assert find_cycle(graph) is not None
    assert "cyclic.e" not in graph["cyclic.d"]
    assert find_cycle({m: e - {"cyclic.b"} for m, e in graph.items() if m != "cyclic.b"}) == \
        ["cyclic.c", "cyclic.d", "cyclic.c"]
    report = runtime_cycles("cyclic", tmp_path)
    assert any("cyclic.a" in line for line in report.get("cyclic.a", [])), report


def test_the_package_has_no_import_cycle():
    graph = import_graph(ROOT / PACKAGE, PACKAGE)
    assert len(graph) > 20
    assert f"{PACKAGE}.client" in graph[PACKAGE]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_module_imports_first_without_meeting_a_half_made_module():
    assert runtime_cycles(PACKAGE, ROOT) == {}
