"""Benchmark tables into the docs, so the figures there are the benchmark's output and cannot drift silently.

A benchmark calls `record(name, table)`: the table goes to docs/figures/<name>.md. A document shows it between

    <!-- figures: <name> -->
    ...
    <!-- end figures -->

`python bench/figures.py` copies every recorded table into those blocks; `python bench/figures.py --check` (run by
`make test`, tests/test_docs_figures.py) fails when a block differs from its table or names one never recorded.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures"
DOCS = [ROOT / "docs" / "evidence.md", ROOT / "docs" / "protocol.md", ROOT / "README.md"]
BLOCK = re.compile(r"(<!-- figures: ([\w-]+) -->\n)(.*?)(<!-- end figures -->)", re.S)


def record(name: str, table: str) -> Path:
    """Keep a benchmark's table as docs/figures/<name>.md (then `python bench/figures.py` updates the docs)."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    out = FIGURES / f"{name}.md"
    out.write_text(table.strip() + "\n")
    return out


def _filled(text: str, problems: list[str], where: str, stale: list[str]) -> str:
    def fill(m: re.Match) -> str:
        src = FIGURES / f"{m.group(2)}.md"
        if not src.is_file():
            problems.append(f"{where}: figures block {m.group(2)!r} has no recorded table ({src.relative_to(ROOT)})")
            return m.group(0)
        table = src.read_text()
        if m.group(3) != table:
            stale.append(m.group(2))
        return m.group(1) + table + m.group(4)

    return BLOCK.sub(fill, text)


def sync(check: bool = False) -> list[str]:
    """Fill the docs' figures blocks; with check, change nothing and return what differs."""
    problems: list[str] = []
    for doc in DOCS:
        if not doc.is_file():
            continue
        stale: list[str] = []
        new = _filled(doc.read_text(), problems, doc.name, stale)
        if stale and check:
            problems.append(f"{doc.name}: figures {', '.join(stale)} differ from the benchmark's last output: "
                            f"run `python bench/figures.py`")
        elif stale:
            doc.write_text(new)
    return problems


if __name__ == "__main__":
    found = sync(check="--check" in sys.argv)
    for line in found:
        print(line, file=sys.stderr)
    sys.exit(1 if found else 0)
