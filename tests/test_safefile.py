"""Output files are written through the descriptor their temporary file was created with, then renamed."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from datalicense.infra import safefile
from datalicense.errors import DataLicenseError
from datalicense.infra.safefile import SafeFileError, atomic_output, cleanup_partials, is_partial_name, partial_prefix

pytestmark = pytest.mark.unit


def _names(folder):
    return sorted(os.listdir(folder))


def _fixed_tokens(monkeypatch, *tokens):
    it = iter(tokens)
    monkeypatch.setattr(safefile, "_token", lambda: next(it))


def test_writes_then_renames_into_place_mode_0600(tmp_path):
    dest = tmp_path / "data.csv"
    with atomic_output(dest) as f:
        f.write(b"a,b\n")
        partials = [n for n in _names(tmp_path) if is_partial_name(dest, n)]
        assert len(partials) == 1 and not dest.exists()
        assert partials[0].startswith(".data.csv.partial-")
        f.write(b"1,2\n")
    assert dest.read_bytes() == b"a,b\n1,2\n"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert _names(tmp_path) == ["data.csv"]


def test_replaces_an_existing_file_atomically(tmp_path):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    with atomic_output(dest) as f:
        f.write(b"new")
        assert dest.read_bytes() == b"old"
    assert dest.read_bytes() == b"new"


def test_failure_leaves_destination_untouched_and_no_partial(tmp_path):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_output(dest) as f:
            f.write(b"half")
            raise RuntimeError("boom")
    assert dest.read_bytes() == b"old"
    assert _names(tmp_path) == ["out.bin"]
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(tmp_path / "new.bin") as f:
            f.write(b"x")
            raise KeyboardInterrupt
    assert _names(tmp_path) == ["out.bin"]


def test_symlink_planted_at_the_predictable_temp_name_is_never_followed(tmp_path, monkeypatch):
    """Even when an attacker knows the next temporary name, the write never goes through their link."""
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    dest = tmp_path / "out.bin"
    planted = tmp_path / (partial_prefix(dest) + "0" * 16)
    planted.symlink_to(victim)
    dangling = tmp_path / (partial_prefix(dest) + "1" * 16)
    dangling.symlink_to(tmp_path / "would-be-created")
    _fixed_tokens(monkeypatch, "0" * 16, "1" * 16, "2" * 16)
    with atomic_output(dest) as f:
        f.write(b"licensed data")
    assert victim.read_bytes() == b"precious"
    assert not (tmp_path / "would-be-created").exists()
    assert dest.read_bytes() == b"licensed data" and not dest.is_symlink()
    # the next run's clean-up removes the planted links themselves, not what they point to
    assert sorted(p.name for p in cleanup_partials(dest)) == sorted([planted.name, dangling.name])
    assert victim.read_bytes() == b"precious"
    assert _names(tmp_path) == ["out.bin", "victim.txt"]


def test_every_name_taken_is_a_clear_error(tmp_path, monkeypatch):
    dest = tmp_path / "out.bin"
    (tmp_path / (partial_prefix(dest) + "0" * 16)).symlink_to(tmp_path / "x")
    monkeypatch.setattr(safefile, "_token", lambda: "0" * 16)
    with pytest.raises(SafeFileError, match="names were taken"):
        with atomic_output(dest) as f:
            f.write(b"x")
    assert not (tmp_path / "x").exists() and not dest.exists()


def test_symlink_at_the_destination_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    dest = tmp_path / "out.bin"
    dest.symlink_to(victim)
    with atomic_output(dest) as f:
        f.write(b"data")
    assert victim.read_bytes() == b"precious"
    assert not dest.is_symlink() and dest.read_bytes() == b"data"


def test_no_overwrite_refuses_an_existing_destination(tmp_path):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"keep")
    with pytest.raises(SafeFileError, match="exists already"):
        with atomic_output(dest, overwrite=False) as f:
            f.write(b"new")
    assert dest.read_bytes() == b"keep" and _names(tmp_path) == ["out.bin"]
    with atomic_output(tmp_path / "fresh.bin", overwrite=False) as f:
        f.write(b"ok")
    assert (tmp_path / "fresh.bin").read_bytes() == b"ok"


def test_destination_folder_is_an_error_and_parents_are_made_on_request(tmp_path):
    (tmp_path / "dir").mkdir()
    with pytest.raises(SafeFileError, match="it is a folder"):
        with atomic_output(tmp_path / "dir") as f:
            f.write(b"x")
    assert _names(tmp_path) == ["dir"]
    with pytest.raises(SafeFileError, match="folder .* is not usable"):
        with atomic_output(tmp_path / "missing" / "out.bin") as f:
            f.write(b"x")
    with atomic_output(tmp_path / "made" / "deep" / "out.bin", parents=True) as f:
        f.write(b"x")
    assert (tmp_path / "made" / "deep" / "out.bin").read_bytes() == b"x"
    assert issubclass(SafeFileError, DataLicenseError)


def test_caller_closing_the_file_is_fine(tmp_path):
    dest = tmp_path / "out.bin"
    with atomic_output(dest) as f:
        f.write(b"abc")
        f.close()
    assert dest.read_bytes() == b"abc"


def test_writes_go_through_the_descriptor_not_the_name(tmp_path):
    """Renaming the temporary file away mid-write does not redirect the data; the move then fails cleanly."""
    dest = tmp_path / "out.bin"
    with pytest.raises(SafeFileError, match="cannot move the output into place"):
        with atomic_output(dest) as f:
            (partial,) = [n for n in _names(tmp_path) if is_partial_name(dest, n)]
            os.rename(tmp_path / partial, tmp_path / "moved")
            f.write(b"secret")
    assert not dest.exists()
    assert (tmp_path / "moved").read_bytes() == b"secret"  # written through the descriptor, by inode


def test_cleanup_removes_leftovers_but_not_a_running_write_or_other_files(tmp_path):
    dest = tmp_path / "out.bin"
    leftover = tmp_path / (partial_prefix(dest) + "ab" * 8)
    leftover.write_bytes(b"interrupted")
    other = [tmp_path / ".out.bin.partial-notours", tmp_path / (".other.bin.partial-" + "ab" * 8),
             tmp_path / ("out.bin.partial-" + "ab" * 8)]
    for p in other:
        p.write_bytes(b"x")
    folder = tmp_path / (partial_prefix(dest) + "cd" * 8)
    folder.mkdir()
    inside = threading.Event()
    release = threading.Event()
    errors = []

    def writer():
        try:
            with atomic_output(dest) as f:
                f.write(b"in progress")
                inside.set()
                release.wait(10)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    assert inside.wait(10)
    removed = cleanup_partials(dest)
    release.set()
    t.join(10)
    assert [p.name for p in removed] == [leftover.name]
    assert not errors and dest.read_bytes() == b"in progress"
    assert all(p.exists() for p in other) and folder.is_dir()
    assert cleanup_partials(tmp_path / "nowhere" / "out.bin") == []


def test_partial_names_are_recognisable():
    assert partial_prefix("/a/b/report.csv") == ".report.csv.partial-"
    assert is_partial_name("/a/b/report.csv", ".report.csv.partial-0123456789abcdef")
    assert not is_partial_name("/a/b/report.csv", ".report.csv.partial-0123456789abcde")
    assert not is_partial_name("/a/b/report.csv", ".report.csv.partial-0123456789abcdef.x")
    assert not is_partial_name("/a/b/report-csv", ".report.csv.partial-0123456789abcdef")
