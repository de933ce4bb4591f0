"""The package's error tree is drawn once, in datalicense/errors.py's docstring, and matches the classes: every class
of the module is drawn under its real parent, and the client's refusals (marked *) are their own classes under
RefusedError, so a caller tells "refused before anything was sent" from "failed". The public API exports them all.
"""

from __future__ import annotations

import inspect
import re

import pytest

import datalicense
from datalicense import errors

pytestmark = pytest.mark.unit

ROW = re.compile(r"^[ │├└─]*(?P<name>[A-Z]\w*Error)(?P<star>\*?)\s", re.M)


def drawn_tree(doc: str) -> dict[str, tuple[str | None, bool]]:
    """{class: (parent drawn above it, marked *)} from the box-drawing tree of a docstring."""
    # a class's depth is the column its name starts at
    rows = [(m.start("name") - m.start(), m.group("name"), bool(m.group("star"))) for m in ROW.finditer(doc)]
    out: dict[str, tuple[str | None, bool]] = {}
    stack: list[tuple[int, str]] = []
    for depth, name, star in rows:
        while stack and stack[-1][0] >= depth:
            stack.pop()
        out[name] = (stack[-1][1] if stack else None, star)
        stack.append((depth, name))
    return out


def test_the_tree_reader_sees_a_wrong_drawing():
    doc = "\n    AError\n    ├── BError     b\n    │   └── CError*    c\n    └── DError     d\n"
    assert drawn_tree(doc) == {"AError": (None, False), "BError": ("AError", False), "CError": ("BError", True),
                               "DError": ("AError", False)}


def test_the_error_tree_is_drawn_once_and_matches_the_classes():
    tree = drawn_tree(errors.__doc__ or "")
    classes = {n: c for n, c in vars(errors).items() if inspect.isclass(c) and issubclass(c, Exception)
               and c.__module__ == errors.__name__}
    assert set(tree) == set(classes), "classes not drawn, or drawn and missing: " + str(set(tree) ^ set(classes))
    for name, (parent, _) in tree.items():
        if parent is not None:
            assert issubclass(classes[name], classes[parent]), f"{name} is drawn under {parent} but is not one"


def test_client_side_refusals_are_their_own_classes():
    tree = drawn_tree(errors.__doc__ or "")
    marked = {n for n, (_, star) in tree.items() if star}
    assert {"AddressError", "AlreadyHeldError", "PolicyError", "NotAllowedNowError"} <= marked
    for name in marked:
        assert issubclass(getattr(errors, name), errors.RefusedError), name
    for name in set(tree) - marked - {"RefusedError", "DataLicenseError"}:
        assert not issubclass(getattr(errors, name), errors.RefusedError), f"{name} is a refusal but not marked *"


def test_the_public_api_exports_every_error_of_the_tree():
    assert set(drawn_tree(errors.__doc__ or "")) <= set(datalicense.__all__)
    for name in datalicense.__all__:
        assert getattr(datalicense, name) is not None
