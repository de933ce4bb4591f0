"""Small modules: no module of the Python package (datalicense/, every folder) and no module of the page
(web/src/*.js) is over 400 lines. An offender is named with its count, so the message says what to split.

Reads the sources; imports none. The check is first shown to catch planted offenders.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 400

#: Where the two kinds of modules live (folder, file pattern; the package's subfolders are searched too).
SOURCES = {"package": (ROOT / "datalicense", "**/*.py"), "page": (ROOT / "web" / "src", "*.js")}

#: Modules being split into smaller ones by another change: held to the limit by the non-strict check below (an
#: XPASS once split), so that the strict check stays green meanwhile. Remove a name once its module is split.
BEING_SPLIT: frozenset[str] = frozenset()


def line_count(path: Path) -> int:
    """Lines as `wc -l` counts them (a last line without a newline counts too)."""
    text = path.read_text(encoding="utf-8")
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def oversized(folder: Path, pattern: str, limit: int = LIMIT) -> dict[str, int]:
    """{path relative to the project (or to `folder`'s parent): lines} of every module in `folder` over `limit`."""
    base = ROOT if folder.is_relative_to(ROOT) else folder.parent
    return {p.relative_to(base).as_posix(): n for p in sorted(folder.glob(pattern))
            if p.is_file() and (n := line_count(p)) > limit}


def _report(found: dict[str, int]) -> str:
    return "\n".join(f"  {path}: {n} lines (over {LIMIT} by {n - LIMIT})" for path, n in sorted(found.items()))


def test_the_check_names_planted_long_modules_with_their_counts(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "roles").mkdir(parents=True)
    (pkg / "short.py").write_text("x = 1\n" * LIMIT)  # exactly at the limit: fine
    (pkg / "roles" / "long.py").write_text("x = 1\n" * (LIMIT + 1))  # a subfolder is searched too
    (pkg / "no_newline.py").write_text("x = 1\n" * LIMIT + "y = 2")  # a last line without a newline counts
    (pkg / "notes.txt").write_text("x\n" * 1000)  # not a module
    assert oversized(pkg, "**/*.py") == {"pkg/no_newline.py": LIMIT + 1, "pkg/roles/long.py": LIMIT + 1}
    page = tmp_path / "src"
    page.mkdir()
    (page / "main.js").write_text("let x;\n" * 450)
    (page / "ok.js").write_text("let x;\n" * 10)
    assert oversized(page, "*.js") == {"src/main.js": 450}
    assert "src/main.js: 450 lines (over 400 by 50)" in _report(oversized(page, "*.js"))


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_no_module_over_400_lines(kind):
    folder, pattern = SOURCES[kind]
    found = {path: n for path, n in oversized(folder, pattern).items() if path not in BEING_SPLIT}
    assert len(list(folder.glob(pattern))) > 5  # the sources are where this test looks
    assert found == {}, f"{kind} modules over {LIMIT} lines (split them):\n{_report(found)}"


@pytest.mark.xfail(strict=False, reason="a module another change is splitting (BEING_SPLIT)")
@pytest.mark.parametrize("path", sorted(BEING_SPLIT))  # none: pytest skips the test (an empty parameter set)
def test_modules_being_split_are_under_400_lines_too(path):
    n = line_count(ROOT / path)
    assert n <= LIMIT, f"{path}: {n} lines (over {LIMIT} by {n - LIMIT})"
