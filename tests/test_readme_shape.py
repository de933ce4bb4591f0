"""The README says what is there: its "Layout" names every folder and module of the package, and its table of
commands is the command line's own list (`datalicense --help` and each group's), no more and no less.

Each check is first shown to catch a README that has fallen behind (a planted one).
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "datalicense"


def section(readme: str, title: str) -> str:
    """The text of `## title` up to the next `## ` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", readme, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def missing_from_layout(layout: str, package: Path) -> list[str]:
    """Folders and modules of `package` the Layout text does not name (a module by its name without .py)."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", layout))
    missing = [f"{d.name}/" for d in sorted(package.iterdir())
               if d.is_dir() and not d.name.startswith((".", "_")) and f"{d.name}/" not in layout]
    for path in sorted(package.rglob("*.py")):
        if path.stem != "__init__" and path.stem not in words:
            missing.append(path.relative_to(package.parent).as_posix())
    return missing


def cli_commands(group: click.Group, prefix: str = "") -> set[str]:
    """Every command path of a click group: `show`, `pool build`, ..."""
    found: set[str] = set()
    for name, cmd in group.commands.items():
        found.add(prefix + name)
        if isinstance(cmd, click.Group):
            found |= cli_commands(cmd, f"{prefix}{name} ")
    return found


def table_commands(text: str) -> set[str]:
    """The commands of the README's table of commands (the table headed `| who | commands |`): the `code` spans of
    its rows, options left out."""
    lines = text.splitlines()
    if "| who | commands |" not in lines:
        return set()
    start = lines.index("| who | commands |")
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return {span for row in rows for span in re.findall(r"`([^`]+)`", row) if not span.startswith("-")}


def test_the_checks_catch_a_readme_that_fell_behind(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "roles").mkdir(parents=True)
    (pkg / "roles" / "__init__.py").write_text("")
    (pkg / "roles" / "seller.py").write_text("")
    (pkg / "roles" / "owner.py").write_text("")
    (pkg / "client.py").write_text("")
    assert missing_from_layout("roles/  seller\nclient.py", pkg) == ["pkg/roles/owner.py"]
    assert missing_from_layout("seller, owner, client", pkg) == ["roles/"]

    @click.group()
    def top() -> None: ...

    @top.group()
    def pool() -> None: ...

    for name in ("show", "set-agent"):
        top.command(name=name)(lambda: None)
    pool.command(name="build")(lambda: None)
    assert cli_commands(top) == {"show", "set-agent", "pool", "pool build"}
    table = ("| who | commands |\n|---|---|\n| anyone | `show`, `dispute` (`--data`) |\n| pools | `pool build` |\n\n"
             "| variable | meaning |\n|---|---|\n| `DATALICENSE_HOME` | the data folder |\n")
    assert table_commands(table) == {"show", "dispute", "pool build"}  # another table is not the commands'
    assert cli_commands(top) - {"pool"} - table_commands(table) == {"set-agent"}  # a command left out is seen


def test_readme_layout_names_every_folder_and_module_of_the_package():
    layout = section((ROOT / "README.md").read_text(), "Layout")
    missing = missing_from_layout(layout, PACKAGE)
    assert missing == [], f"README's Layout does not name: {', '.join(missing)}"


def test_readme_table_of_commands_is_the_command_line():
    from datalicense.cli.main import cli

    commands = cli_commands(cli) - {"pool"}  # the group itself: its commands are listed
    listed = table_commands(section((ROOT / "README.md").read_text(), "Using it"))
    assert sorted(commands - listed) == [], "commands the README's table of commands leaves out"
    assert sorted(listed - commands) == [], "commands the README's table names that do not exist"
