"""The home folder ($DATALICENSE_HOME, default ~/.datalicense): where it is, and its private folders and files."""

from __future__ import annotations

import os
from pathlib import Path

from datalicense.errors import ConfigError


def default_home() -> Path:
    return Path(os.environ.get("DATALICENSE_HOME", Path.home() / ".datalicense"))


def private_dir(path: Path) -> None:
    """Create a folder readable by its owner only, and each missing folder above it, as ssh and gpg do (and tighten
    an existing one we own)."""
    try:
        missing = []
        up = Path(path)
        while not up.exists() and up != up.parent:
            missing.append(up)
            up = up.parent
        for folder in reversed(missing):
            folder.mkdir(mode=0o700, exist_ok=True)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise ConfigError(f"cannot use the data folder {path}: {exc.strerror}") from exc


def write_private(path: Path, text: str) -> None:
    """Replace a file with `text`, readable by its owner only (0600)."""
    private_dir(path.parent)
    fd = os.open(path.with_suffix(path.suffix + ".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(path.with_suffix(path.suffix + ".tmp"), path)
