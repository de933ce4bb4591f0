"""The figures in the docs are the benchmarks' own output: a table edited by hand, or a benchmark re-run without
updating the docs, fails here."""

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent


def _figures():
    spec = importlib.util.spec_from_file_location("bench_figures", ROOT / "bench" / "figures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_docs_show_the_benchmarks_last_output():
    figures = _figures()
    assert figures.sync(check=True) == []
    evidence = (ROOT / "docs" / "evidence.md").read_text()
    for name in ("marketplace_gas", "pool_gas", "pool_million"):
        assert f"<!-- figures: {name} -->" in evidence, name
        table = (ROOT / "docs" / "figures" / f"{name}.md").read_text()
        assert table.startswith(("|", "Gas", "Pool")) and table in evidence


def test_a_hand_edited_figure_is_caught(tmp_path, monkeypatch):
    figures = _figures()
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "t.md").write_text("| a | 1 |\n")
    doc = tmp_path / "doc.md"
    doc.write_text("x\n<!-- figures: t -->\n| a | 2 |\n<!-- end figures -->\n<!-- figures: gone -->\n<!-- end figures -->\n")
    monkeypatch.setattr(figures, "FIGURES", tmp_path / "figures")
    monkeypatch.setattr(figures, "DOCS", [doc])
    monkeypatch.setattr(figures, "ROOT", tmp_path)
    problems = figures.sync(check=True)
    assert any("t differ" in p for p in problems) and any("'gone'" in p for p in problems)
    assert "| a | 2 |" in doc.read_text()  # a check changes nothing
    figures.sync()
    assert "| a | 1 |" in doc.read_text()
