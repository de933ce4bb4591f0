"""The package's imports as the policy tests read them (tests/test_import_cycles.py, tests/test_layers.py): its
modules by dotted name, and the package modules an import statement runs. Reads the sources; imports none."""

from __future__ import annotations

import ast
from pathlib import Path


def package_modules(package_dir: Path, package: str) -> dict[str, Path]:
    """{dotted module name: file} of every module of the package, subpackages too (a package is its __init__)."""
    files: dict[str, Path] = {}
    for p in sorted(package_dir.rglob("*.py")):
        parts = [package, *p.relative_to(package_dir).with_suffix("").parts]
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return files


def import_targets(node: ast.Import | ast.ImportFrom, module: str, is_pkg: bool, files: dict[str, Path]) -> list[str]:
    """The package modules (keys of `files`) that the import statement `node` in `module` runs, itself excepted."""
    if isinstance(node, ast.Import):
        targets = [a.name for a in node.names]
    else:
        here = module if is_pkg else module.rsplit(".", 1)[0]  # the module's own package
        if node.level:
            base = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
            target = f"{base}.{node.module}" if node.module else base
        else:
            target = node.module or ""
        # `from P import name`: the submodule P.name if there is one, else P itself (a name it defines)
        targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in files else target for a in node.names]
    found = []
    for t in targets:
        # `import P.x.y` runs P.x.y (and P.x, P, which import what they import themselves)
        while t and t not in files and "." in t:
            t = t.rsplit(".", 1)[0]
        if t in files and t != module:
            found.append(t)
    return found
