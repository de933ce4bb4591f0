"""Hostile text from the chain or IPFS never reaches a terminal raw: the CLI's human output escapes it."""

from __future__ import annotations

import json
import re

import pytest

from datalicense.cli import main as cli
from datalicense.errors import DataLicenseError
from datalicense.protocol.textsafe import escape, is_safe

pytestmark = pytest.mark.e2e

ESC = "\x1b"
OSC52 = ESC + "]52;c;" + "cm0gLXJmIH4K" + "\x07"  # write "rm -rf ~" to the clipboard
HIDE = ESC + "[8m"  # concealed text
UP_ERASE = ESC + "[1A" + ESC + "[2K"  # cursor up, erase the line
RLO = "\u202e"  # right-to-left override
FAKE_PRICE_LINE = "\n  price        0.000001 RBTC (listed)"

# Anything a terminal acts on: C0 but newline, DEL, C1, bidi embeddings/overrides/isolates and marks.
_RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _assert_terminal_safe(text: str) -> None:
    bad = _RAW.findall(text)
    assert not bad, f"raw control characters reached the terminal: {bad!r}"


@pytest.mark.parametrize("raw, shown", [
    ("Price " + HIDE + "1 RBTC", "Price \\x1b[8m1 RBTC"),
    (OSC52, "\\x1b]52;c;cm0gLXJmIH4K\\x07"),
    ("\x9b2J", "\\x9b2J"),  # C1 CSI: one byte that some terminals obey
    ("\x7f\x00\r\t", "\\x7f\\x00\\x0d\\x09"),
    ("abc" + RLO + "fdp.exe", "abc\\u202efdp.exe"),
    ("\u2066x\u2069 \u200f \u200b \ufeff \u2028", "\\u2066x\\u2069 \\u200f \\u200b \\ufeff \\u2028"),
    ("line\nbreak", "line\\x0abreak"),
    ("caf\u00e9 \u65e5\u672c \u0645\u0631\u062d\u0628\u0627", "caf\u00e9 \u65e5\u672c \u0645\u0631\u062d\u0628\u0627"),
    ("\U000e0041tag", "\\U000e0041tag"),
    ("\ud800", "\\ud800"),
])
def test_escape(raw, shown):
    assert escape(raw) == shown
    _assert_terminal_safe(escape(raw))
    assert escape(escape(raw)) == escape(raw)  # escaping is idempotent
    assert is_safe(escape(raw))


def test_newlines_kept_only_when_asked():
    assert escape("a\nb", newlines=True) == "a\nb"
    assert escape("a\r\nb", newlines=True) == "a\\x0d\nb"
    assert escape(12) == "12"


def test_json_output_escapes_the_same_characters():
    hostile = {"title": OSC52 + HIDE + RLO + "\x9b" + "\x7f" + "\u2028"}
    out = json.dumps(hostile, indent=2, default=str)  # what Ctx.out prints for --json
    _assert_terminal_safe(out)
    assert json.loads(out) == hostile


def test_human_output_choke_point_escapes(capsys):
    ctx = cli.Ctx("local", None, None, None, None, as_json=False, progress=False)
    ctx.out({}, "dataset 1: " + OSC52 + "\n  price " + HIDE + "1 RBTC" + UP_ERASE)
    out = capsys.readouterr().out
    _assert_terminal_safe(out)
    assert out.count("\n") == 2 and "\\x1b]52;c;" in out and "\\x1b[8m1 RBTC" in out
    ctx = cli.Ctx("local", None, None, None, None, as_json=True, progress=False)
    ctx.out({"title": OSC52}, "unused")
    out = capsys.readouterr().out
    _assert_terminal_safe(out)
    assert json.loads(out) == {"title": OSC52}


def test_error_line_is_escaped(monkeypatch, capsys):
    def boom(*a, **k):
        raise DataLicenseError("revert reason from a token: " + OSC52 + UP_ERASE)

    monkeypatch.setattr(cli.cli, "main", boom)
    with pytest.raises(SystemExit):
        cli.main()
    err = capsys.readouterr().err
    _assert_terminal_safe(err)
    assert err.startswith("error: revert reason from a token: \\x1b]52;c;") and err.count("\n") == 1


# ------------------------------------------------------------------------------------- the real command


@pytest.fixture
def run(run_process):
    return run_process


def test_hostile_manifest_shown_by_the_cli_is_escaped(run, tmp_path):
    """A seller's manifest that would hide the real price, fake a price line and write the clipboard."""
    src = tmp_path / "data.csv"
    src.write_text("a\n1\n")
    title = "Cheap data " + OSC52 + RLO + "vsc.exe"
    description = "Only " + HIDE + "0.000001 RBTC" + UP_ERASE + FAKE_PRICE_LINE + "\x9b2J"
    ds = json.loads(run("--json", "publish", str(src), "--title", title, "--description", description,
                        "--price", "0.002").stdout)["dataset_id"]

    shown = run("show", str(ds), account="dev:4").stdout
    _assert_terminal_safe(shown)
    assert "\\x1b]52;c;cm0gLXJmIH4K\\x07" in shown and "\\u202evsc.exe" in shown
    assert "\\x1b[8m0.000001 RBTC\\x1b[1A\\x1b[2K" in shown and "\\x9b2J" in shown
    price_lines = [line for line in shown.splitlines() if line.lstrip().startswith("price")]
    assert len(price_lines) == 1 and "0.002 RBTC" in price_lines[0]  # the fake line stays inside the description

    as_json = run("--json", "show", str(ds), account="dev:4").stdout
    _assert_terminal_safe(as_json)
    manifest = json.loads(as_json)["manifest"]
    assert manifest["title"] == title and manifest["description"] == description  # JSON keeps the exact text

    for args in (["list"], ["licences"]):
        _assert_terminal_safe(run(*args, account="dev:4").stdout)
