"""The Python codecs of the contracts' packed words (datalicense/protocol/slots.py) against the shared vectors
(tests/vectors/slots.json), which the Solidity codecs run on a real chain too (tests/test_slot_codecs.py)."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import pytest

from datalicense.errors import IntegrityError
from datalicense.protocol import slots
from datalicense.protocol.records import Licence, State, escrowed_delivery_record

pytestmark = pytest.mark.unit

VECTORS = json.loads((Path(__file__).parent / "vectors" / "slots.json").read_text())
CASES = [(codec, i) for codec, vectors in VECTORS.items() for i in range(len(vectors))]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def expected(codec: str, i: int) -> tuple[int, dict[str, int | bool]]:
    v = VECTORS[codec][i]
    values = {snake(k): (f if isinstance(f, bool) else int(f, 16)) for k, f in v["fields"].items()}
    return int(v["word"], 16), values


def test_every_solidity_codec_has_a_python_mirror_and_vectors():
    assert set(VECTORS) == set(slots.CODECS)
    for codec, cls in slots.CODECS.items():
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        assert names == [snake(k) for k in VECTORS[codec][0]["fields"]], codec


@pytest.mark.parametrize("codec,i", CASES)
def test_python_slot_codecs_match_the_shared_vectors(codec, i):
    word, values = expected(codec, i)
    cls = slots.CODECS[codec]
    record = cls.decode(word)
    assert {f.name: getattr(record, f.name) for f in fields(record)} == values  # type: ignore[arg-type]
    assert cls(**values).encode() == word


def test_a_field_too_wide_for_its_bits_is_refused_not_truncated():
    with pytest.raises(IntegrityError, match="version = 4294967296 does not fit its 32 bits"):
        slots.DeliveryRecordWord(body=0, version=1 << 32).encode()
    with pytest.raises(IntegrityError, match="not a 256-bit storage word"):
        slots.LicenceWord.decode(1 << 256)


def test_pending_delivery_record_keeps_the_version_in_the_top_32_bits():
    key = 0x00000000000000000000000000000000DeaDBeef
    word = slots.DeliveryRecordWord(body=key, version=7).encode()
    assert word == (7 << 224) | key
    assert slots.DeliveryRecordWord.decode(word).key == key
    # the escrowed record has the same layout: one getter for the version bought, whatever the state
    record = escrowed_delivery_record(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, b"\x04" * 32, "0x" + "05" * 20, 7)
    assert slots.DeliveryRecordWord.decode(int.from_bytes(record, "big")).version == 7


def test_licence_record_decodes_through_the_codec():
    word = slots.LicenceWord(holder=0xAB, terms_id=3, stamp=1_700_000_000, state=int(State.SETTLED),
                             settings_id=2).encode()
    lic = Licence.decode(word)
    assert (int(lic.holder, 16), lic.terms_id, lic.stamp, lic.state, lic.settings_id) == (
        0xAB, 3, 1_700_000_000, State.SETTLED, 2)


CONTRACTS = Path(__file__).resolve().parent.parent / "contracts"


def _code(path: Path) -> str:
    """Solidity source without its comments."""
    return re.sub(r"//[^\n]*|/\*.*?\*/", "", path.read_text(), flags=re.S)


@pytest.mark.parametrize("name", ["DataLicense.sol", "DataLicenseLens.sol", "RevenuePool.sol"])
def test_packed_words_are_shifted_only_in_their_codecs(name):
    """No field of a packed word is shifted in or out by hand in the core, the lens or the pool: contracts/types/
    is the one place a layout is written. (`1 << n` builds the core's sets of licence states, not a word.)"""
    code = _code(CONTRACTS / name)
    by_hand = [m.group(0) for m in re.finditer(r"[^\n]*(>>|<<)[^\n]*", code)
               if not re.search(r"\(?1 << (\d+|uint8\(state\))\)?", m.group(0))]
    assert not by_hand, f"{name} shifts a packed word by hand: {by_hand}"
