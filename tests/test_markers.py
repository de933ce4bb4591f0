"""Every test module says what it needs: exactly one group marker (`unit`, `chain`, `e2e`) in its `pytestmark`,
and the groups are registered in the pytest configuration (README, "Tests"). Reads the sources; imports none."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

TESTS = Path(__file__).resolve().parent
GROUPS = {"unit", "chain", "e2e"}


def _marks(node: ast.AST) -> set[str]:
    """Names X of every `pytest.mark.X` (called or not) in an expression."""
    return {n.attr for n in ast.walk(node)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute) and n.value.attr == "mark"}


def module_groups(path: Path) -> set[str]:
    marks: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in targets) and node.value is not None:
            marks |= _marks(node.value)
    return marks & GROUPS


@pytest.mark.parametrize("path", sorted(TESTS.glob("test_*.py")), ids=lambda p: p.name)
def test_every_test_module_carries_one_group_marker(path):
    groups = module_groups(path)
    assert len(groups) == 1, (
        f"{path.name} has group markers {sorted(groups) or 'none'}: give it exactly one, "
        f"`pytestmark = pytest.mark.unit` (neither chain nor IPFS), `.chain` (the local chain) or `.e2e` (IPFS or a "
        f"browser, usually with the chain)")


def test_groups_are_registered():
    config = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    registered = {line.split(":", 1)[0].strip() for line in config.get("markers", [])}
    assert GROUPS <= registered


def test_the_check_sees_a_module_without_a_group(tmp_path):
    bare = tmp_path / "test_bare.py"
    bare.write_text("import pytest\npytestmark = [pytest.mark.slow]\n\ndef test_x():\n    pass\n")
    assert module_groups(bare) == set()
    bare.write_text("import pytest\npytestmark = [pytest.mark.chain, pytest.mark.skipif(False, reason='')]\n")
    assert module_groups(bare) == {"chain"}
