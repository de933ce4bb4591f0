"""The package's layers point one way: errors < protocol < infra < roles < client < services < cli < the package's
public face (datalicense/__init__.py). A module never imports a module of a higher layer: not at module level, not
inside a function, not under `if TYPE_CHECKING:`.

A function-level import is allowed where it cuts start-up time (or breaks a load-order knot) and says so: each one
carries a comment on its line, or a comment right above it (one comment may head a run of imports).

Each check is first shown to catch a planted package that breaks it.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

from imports import import_targets, package_modules

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "datalicense"

# the layer of each module, by the first part of its name under the package (lowest first)
LAYERS = ["errors", "protocol", "infra", "roles", "client", "services", "cli", ""]  # "": the package's __init__

# Folders whose function-level imports another change is still giving reasons to (the CLI is being split into one
# module per command group, the page's server split); the layer direction holds there already. Remove a folder once its imports say why.
REASONS_PENDING = {f"{PACKAGE}.services.web"}


def layer_of(module: str, package: str) -> int:
    rest = module[len(package) + 1:].split(".")[0] if module != package else ""
    return LAYERS.index(rest) if rest in LAYERS else -1


def upward_imports(package_dir: Path, package: str) -> list[str]:
    """'module (layer) imports target (higher layer), line N' for every import of the package, wherever it is."""
    files = package_modules(package_dir, package)
    bad = []
    for module, path in files.items():
        mine = layer_of(module, package)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in dict.fromkeys(import_targets(node, module, path.name == "__init__.py", files)):
                theirs = layer_of(target, package)
                if theirs > mine:
                    bad.append(f"{module} ({LAYERS[mine] or 'package'}) imports {target} "
                               f"({LAYERS[theirs] or 'package'}), line {node.lineno}")
    return bad


def _function_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found += [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
    return sorted(set(found), key=lambda n: n.lineno)


def unexplained_function_imports(package_dir: Path, package: str, skip: set[str] = frozenset()) -> list[str]:
    """'module line N' for every import inside a function with no comment on its lines or right above it (a run of
    imports may share the comment above its first one)."""
    bad = []
    for module, path in package_modules(package_dir, package).items():
        if any(module == s or module.startswith(s + ".") for s in skip):
            continue
        text = path.read_text()
        comments = {tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(text).readline)
                    if tok.type == tokenize.COMMENT}
        imports = _function_imports(ast.parse(text, str(path)))
        import_ends = {n.end_lineno: n for n in imports}
        for node in imports:
            line = node.lineno
            if any(n in comments for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)):
                continue
            while line - 1 in import_ends:  # climb a run of imports to the line above its first one
                line = import_ends[line - 1].lineno
            if line - 1 not in comments:
                bad.append(f"{module} line {node.lineno}")
    return bad


# ------------------------------------------------------------------------------------------------- tests


def _plant(tmp_path: Path) -> Path:
    pkg = tmp_path / "layered"
    for folder in ("protocol", "infra", "roles", "services", "cli"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    files = {
        "__init__.py": "from layered.client import Client\n",
        "errors.py": "class E(Exception): pass\n",
        "client.py": "from layered.roles.seller import Seller\nclass Client: pass\n",
        "protocol/rules.py": "from layered.errors import E\n",
        "infra/chain.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                          "    from layered.roles.seller import Seller\n",  # upward, annotations only: still refused
        "roles/seller.py": "def publish():\n    # start-up: the client is heavy\n    from layered.client import Client\n"
                           "    from layered.infra import chain\n",  # upward at call time; a run under one comment
        "services/agent.py": "def run():\n    from layered.roles.seller import Seller\n    return Seller\n",  # no reason
        "cli/main.py": "from layered.services.agent import run\nfrom layered.client import Client\n",  # downward: fine
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    return pkg


def test_the_checks_see_planted_upward_imports_and_unexplained_function_imports(tmp_path):
    pkg = _plant(tmp_path)
    assert sorted(upward_imports(pkg, "layered")) == [
        "layered.infra.chain (infra) imports layered.roles.seller (roles), line 3",
        "layered.roles.seller (roles) imports layered.client (client), line 3",
    ]
    assert unexplained_function_imports(pkg, "layered") == ["layered.services.agent line 2"]
    assert unexplained_function_imports(pkg, "layered", {"layered.services"}) == []


def test_every_module_has_a_layer():
    modules = package_modules(ROOT / PACKAGE, PACKAGE)
    assert len(modules) > 40
    assert [m for m in modules if layer_of(m, PACKAGE) < 0] == []


def test_no_module_imports_a_higher_layer():
    bad = upward_imports(ROOT / PACKAGE, PACKAGE)
    assert bad == [], "upward imports:\n" + "\n".join(bad)


def test_every_function_level_import_says_why():
    bad = unexplained_function_imports(ROOT / PACKAGE, PACKAGE, REASONS_PENDING)
    assert bad == [], "function-level imports without a reason (cut start-up time? say so):\n" + "\n".join(bad)


#: Libraries that reach the network, other processes or the chain: none of them belongs in the pure layer.
IO_LIBRARIES = {"web3", "requests", "httpx", "aiohttp", "socket", "subprocess", "urllib", "http", "ipfshttpclient",
                "starlette", "uvicorn", "brownie", "asyncio", "threading", "multiprocessing"}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_protocol_layer_does_no_io():
    """datalicense/protocol/ is pure rules: records, codecs, the clock, verification. Reading the chain or IPFS is
    infra's (the marketplace's typed reads are datalicense/infra/market.py)."""
    protocol = Path(__file__).resolve().parent.parent / "datalicense" / "protocol"
    found = {p.name: sorted(_imported_roots(p) & IO_LIBRARIES) for p in sorted(protocol.glob("*.py"))}
    assert {name: libs for name, libs in found.items() if libs} == {}
