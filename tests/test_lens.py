"""DataLicenseLens: every view against known values, and its slot constants against the compiler's storage layout."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from brownie import DataLicenseLens, TestToken
from eth_utils import keccak

from helpers import (
    BOND, DAY, FEE_BPS, PRICE, ZERO, buy, buy_token, dataset_of, deliver, dispute_key, licence_of, publish, reverts,
    settings_of, sleep, terms_of,
)
from datalicense.protocol import keywrap, slots
from datalicense.protocol.records import Licence, Settings, State, Terms, TermsFlag

pytestmark = pytest.mark.chain

ROOT = Path(__file__).resolve().parent.parent
LENS_SOURCE = (ROOT / "contracts" / "DataLicenseLens.sol").read_text()
FEE = PRICE * FEE_BPS // 10000
ZERO32 = "0x" + "00" * 32


# ------------------------------------------------------------------------------------------ storage layout

def _solc() -> Path:
    return Path(os.environ.get("SOLCX_BINARY_PATH", Path.home() / ".solcx")) / "solc-v0.8.24"


@pytest.fixture(scope="module")
def layout():
    """DataLicense's storage layout as solc reports it (standard JSON, the project's compiler settings)."""
    request = {
        "language": "Solidity",
        "sources": {"contracts/DataLicense.sol": {"urls": ["contracts/DataLicense.sol"]}},
        "settings": {
            "remappings": ["@openzeppelin=node_modules/@openzeppelin"],
            "evmVersion": "paris",
            "optimizer": {"enabled": True, "runs": 200},
            "outputSelection": {"contracts/DataLicense.sol": {"DataLicense": ["storageLayout"]}},
        },
    }
    out = subprocess.run([str(_solc()), "--standard-json", "--allow-paths", "."], input=json.dumps(request),
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout)
    errors = [e["formattedMessage"] for e in result.get("errors", []) if e["severity"] == "error"]
    assert not errors, errors
    return result["contracts"]["contracts/DataLicense.sol"]["DataLicense"]["storageLayout"]


def _variables(layout):
    return {v["label"]: (int(v["slot"]), v["offset"], v["type"]) for v in layout["storage"]}


#: Lens slot constant -> DataLicense variable (the first variable of the slot, for packed ones).
SLOT_VARIABLES = {
    "SLOT_LICENCES": "_licences",
    "SLOT_OWNER": "_owner",
    "SLOT_COUNTERS": "_lastLicenceId",
    "SLOT_FEE_RECIPIENT": "_feeRecipient",
    "SLOT_ARBITER": "_arbiter",
    "SLOT_DATASETS": "_datasets",
    "SLOT_TERMS": "_terms",
    "SLOT_ROYALTY": "_royaltyBps",
    "SLOT_KEY_HASH": "_keyHash",
    "SLOT_AGENTS": "_agents",
    "SLOT_PENDING_OWNERS": "_pendingOwners",
    "SLOT_SETTINGS": "_settings",
    "SLOT_DELIVERY": "_delivery",
    "SLOT_DISPUTES": "_disputes",
    "SLOT_ASSET_ADDRESS": "_assetAddress",
    "SLOT_ASSET_SLOT": "_assetSlot",
    "SLOT_OWED": "_owed",
    "SLOT_FEES": "_fees",
    "SLOT_HELD": "_held",
}


def test_lens_slot_constants_match_the_storage_layout(layout):
    constants = {m.group(1): int(m.group(2))
                 for m in re.finditer(r"uint256 internal constant (SLOT_\w+) = (\d+);", LENS_SOURCE)}
    assert set(constants) == set(SLOT_VARIABLES), "a lens slot constant has no mapping in this test"
    variables = _variables(layout)
    for const, label in SLOT_VARIABLES.items():
        slot, offset, _ = variables[label]
        assert (constants[const], 0) == (slot, offset), f"{const} = {constants[const]}, but {label} is at {slot}"


#: The shape the lens decodes each mapping as (a mapping that gains a key, e.g. per version, must fail here).
MAPPING_TYPES = {
    "_keyHash": "t_mapping(t_uint256,t_mapping(t_uint256,t_bytes32))",
    "_agents": "t_mapping(t_uint256,t_address)",
    "_pendingOwners": "t_mapping(t_uint256,t_address)",
    "_royaltyBps": "t_mapping(t_uint256,t_uint256)",
    "_assetAddress": "t_mapping(t_uint256,t_address)",
    "_owed": "t_mapping(t_uint256,t_mapping(t_address,t_uint256))",
    "_fees": "t_mapping(t_uint256,t_uint256)",
    "_held": "t_mapping(t_uint256,t_uint256)",
}


#: The words kept in a codec's type (contracts/types/): the mapping's value is that type.
CODEC_MAPPINGS = {
    "_delivery": ("t_uint256", "DeliveryRecord"),
    "_disputes": ("t_uint256", "DisputeRecord"),
    "_assetSlot": ("t_address", "AssetSlot"),
}


def test_lens_mapping_shapes_match_the_storage_layout(layout):
    variables = _variables(layout)
    for label, shape in MAPPING_TYPES.items():
        assert variables[label][2] == shape, f"{label} is {variables[label][2]}; the lens reads it as {shape}"
    for label, (key, codec) in CODEC_MAPPINGS.items():
        assert re.fullmatch(rf"t_mapping\({key},t_userDefinedValueType\({codec}\)\d+\)", variables[label][2]), label
    for label in ("_licences", "_datasets", "_terms", "_settings"):
        assert variables[label][2].startswith("t_mapping(t_uint256,t_struct("), label


#: Width in bits of the compiler's value types.
WIDTHS = {"t_address": 160, "t_bool": 8, "t_enum(State)": 8}


def _width(solc_type: str) -> int:
    if solc_type.startswith("t_uint"):
        return int(solc_type[len("t_uint"):])
    return WIDTHS[re.sub(r"\d+$", "", solc_type)]


def _codec_layout(codec) -> dict[str, tuple[int, int]]:
    """{camelCase field: (first bit, width)} of a Python codec (the mirror of the Solidity codec, both held to the
    shared vectors by tests/test_slots.py and tests/test_slot_codecs.py)."""
    camel = lambda n: re.sub(r"_(\w)", lambda m: m.group(1).upper(), n)  # noqa: E731
    return {camel(name): (shift, width) for name, shift, width in codec.LAYOUT}


def test_codecs_of_packed_state_variables_match_the_storage_layout(layout):
    v = _variables(layout)
    words = {
        slots.CountersWord: ["_lastLicenceId", "_lastDatasetId", "_lastTermsId", "_settingsId", "_emergencyPaused"],
        slots.ArbiterWord: ["_arbiter", "_assetCount"],
    }
    for codec, labels in words.items():
        assert len({v[label][0] for label in labels}) == 1, f"{labels} no longer share one slot"
        got = {label.lstrip("_"): (v[label][1] * 8, _width(v[label][2])) for label in labels}
        assert got == _codec_layout(codec), f"{codec.__name__}: the compiler lays out {got}"


def _struct_layout(layout, name):
    """{member: (first bit, width)} of a struct of IDataLicense (all our structs fit one slot)."""
    for key, t in layout["types"].items():
        if key.startswith(f"t_struct({name})"):
            members = {m["label"]: (int(m["slot"]), m["offset"] * 8, _width(m["type"])) for m in t["members"]}
            assert all(slot == 0 for slot, _, _ in members.values()), f"{name} no longer fits one slot"
            return {label: (bit, width) for label, (_, bit, width) in members.items()}
    raise LookupError(name)


@pytest.mark.parametrize("codec,struct", [
    (slots.LicenceWord, "Licence"),
    (slots.DatasetWord, "Dataset"),
    (slots.TermsWord, "Terms"),
    (slots.SettingsWord, "Settings"),
])
def test_codecs_of_struct_words_match_the_storage_layout(layout, codec, struct):
    members = _struct_layout(layout, struct)
    assert _codec_layout(codec) == members, f"{codec.__name__} reads {_codec_layout(codec)}, {struct} is {members}"


# ------------------------------------------------------------------------------------------------- views

@pytest.fixture(scope="module")
def scene(market, lens, admin, seller, buyer, agent, stranger, arbiter, token):
    """One of everything, with known values."""
    ds = publish(market, seller, agent=agent, duration=10 * DAY, cap=7, transferable=True, royalty=300)
    pending, pkey, ptx = buy(market, ds.dataset_id, buyer)
    delivered, dkey, _ = buy(market, ds.dataset_id, buyer, licensee=stranger)
    _, dwrap, dtx = deliver(market, delivered, ds, dkey, agent)
    disputed, xkey, _ = buy(market, ds.dataset_id, buyer)
    deliver(market, disputed, ds, xkey, agent)
    dispute_tx = market.disputeData(disputed, {"from": buyer, "value": BOND})
    settled, skey, _ = buy(market, ds.dataset_id, buyer)
    deliver(market, settled, ds, skey, agent)
    market.confirm(settled, {"from": buyer})
    tok = publish(market, seller, asset=token.address)
    tlid, tkey, _ = buy_token(market, token, tok.dataset_id, buyer)
    market.transferDataset(tok.dataset_id, stranger, {"from": seller})
    market.setSettings(500, 3 * BOND, {"from": admin})
    return dict(ds=ds, pending=pending, pkey=pkey, ptx=ptx, delivered=delivered, dkey=dkey, dwrap=dwrap, dtx=dtx,
                disputed=disputed, dispute_tx=dispute_tx, settled=settled, tok=tok, tlid=tlid)


def test_market_and_admin(lens, market, admin):
    assert lens.market() == market
    assert lens.admin() == admin


def test_counters_and_platform(lens, scene, fee_recipient, arbiter):
    assert lens.counters().dict() == {"lastLicenceId": 5, "lastDatasetId": 2, "lastTermsId": 2}
    assert lens.platform().dict() == {"settingsId": 2, "feeBps": 500, "disputeBond": 3 * BOND,
                                      "feeRecipient": fee_recipient, "arbiter": arbiter, "emergencyPaused": False,
                                      "assetCount": 1}


def test_licence_records(lens, scene, buyer, stranger):
    lic = licence_of(lens, scene["pending"])
    assert (lic.holder, lic.stamp, lic.state, lic.settings_id) == (buyer, scene["ptx"].timestamp, State.PENDING, 1)
    lic = licence_of(lens, scene["delivered"])
    assert (lic.holder, lic.stamp, lic.state) == (stranger, scene["dtx"].timestamp, State.DELIVERED)
    assert licence_of(lens, scene["disputed"]).state == State.DATA_DISPUTED
    assert licence_of(lens, scene["settled"]).state == State.SETTLED
    assert licence_of(lens, 999) == Licence(holder=ZERO, terms_id=0, stamp=0, state=State.NONE, settings_id=0)


def test_dataset_terms_and_royalty(lens, scene, seller):
    ds = scene["ds"].dataset_id
    d = dataset_of(lens, ds)
    assert (d.owner, d.sold, d.version) == (seller, 4, 1)
    assert terms_of(lens, d.terms_id) == Terms(price=PRICE, dataset_id=ds, asset_id=0, duration=10 * DAY,
                                               delivery_window=DAY, dispute_window=2 * DAY,
                                               flags=TermsFlag.TRANSFERABLE, supply_cap=7)
    assert licence_of(lens, scene["pending"]).terms_id == d.terms_id
    assert lens.royaltyBps(d.terms_id) == 300
    tok = dataset_of(lens, scene["tok"].dataset_id)
    assert terms_of(lens, tok.terms_id).asset_id == 1  # asset id of the token
    assert lens.royaltyBps(tok.terms_id) == 0


def test_key_hash_agent_and_pending_owner(lens, market, scene, seller, agent, stranger):
    ds, tok = scene["ds"], scene["tok"]
    assert lens.keyHashOf(ds.dataset_id) == "0x" + ds.key_hash.hex()
    assert lens.keyHashOfVersion(ds.dataset_id, 1) == "0x" + ds.key_hash.hex()
    assert lens.keyHashOfVersion(ds.dataset_id, 2) == ZERO32
    market.publishVersion(ds.dataset_id, b"\x02", keccak(b"p"), keccak(b"k2"), {"from": seller})
    assert lens.keyHashOf(ds.dataset_id) == "0x" + keccak(b"k2").hex()
    assert lens.keyHashOfVersion(ds.dataset_id, 1) == "0x" + ds.key_hash.hex()
    assert lens.agentOf(ds.dataset_id) == agent
    assert lens.agentOf(tok.dataset_id) == ZERO
    assert lens.pendingDatasetOwner(tok.dataset_id) == stranger
    assert lens.pendingDatasetOwner(ds.dataset_id) == ZERO


def test_delivery_records(lens, scene):
    from eth_abi import encode

    pkey, dkey, w, ds = scene["pkey"], scene["dkey"], scene["dwrap"], scene["ds"]
    # the version bought in the top 32 bits, as in every state that keeps it (contracts/types/DeliveryRecord.sol)
    pending_word = (1 << 224) | int(pkey.address, 16)
    assert lens.deliveryRecord(scene["pending"]) == "0x" + pending_word.to_bytes(32, "big").hex()
    assert lens.pendingDeliveryKey(scene["pending"]) == pkey.address
    assert lens.purchasedVersion(scene["pending"]) == 1
    assert lens.purchasedVersion(scene["delivered"]) == 1 and lens.purchasedVersion(scene["settled"]) == 0
    digest = keccak(encode(["bytes32"] * 4 + ["address"], [w.r_x, w.r_y, w.wrapped_key, ds.key_hash, dkey.address]))
    expected = (1 << 224) | (int.from_bytes(digest, "big") & ((1 << 224) - 1))  # the version bought, over 224 bits
    assert lens.deliveryRecord(scene["delivered"]) == "0x" + expected.to_bytes(32, "big").hex()
    assert lens.pendingDeliveryKey(scene["delivered"]) == ZERO
    assert lens.deliveryRecord(scene["disputed"]) != ZERO32  # the escrowed delivery is kept for the ruling
    assert lens.deliveryRecord(scene["settled"]) == ZERO32


def test_bonds_and_settings(lens, scene):
    assert lens.bondOf(scene["disputed"]) == BOND
    assert lens.disputeOpenedAt(scene["disputed"]) == scene["dispute_tx"].timestamp
    assert lens.bondOf(scene["settled"]) == 0
    assert lens.disputeOpenedAt(scene["settled"]) == 0
    assert settings_of(lens, 1) == Settings(fee_bps=FEE_BPS, dispute_bond=BOND)
    assert settings_of(lens, 2) == Settings(fee_bps=500, dispute_bond=3 * BOND)
    assert settings_of(lens, 3) == Settings(fee_bps=0, dispute_bond=0)
    assert lens.licenceSettings(scene["pending"]).dict() == {"feeBps": FEE_BPS, "disputeBond": BOND}


def test_assets(lens, scene, token, admin, market):
    assert lens.assetAddress(0) == ZERO
    assert lens.assetAddress(1) == token
    assert lens.assetAddress(2) == ZERO
    assert lens.assetOf(token).dict() == {"assetId": 1, "allowed": True}
    assert lens.assetOf(ZERO).dict() == {"assetId": 0, "allowed": True}
    unknown = "0x" + "44" * 20
    assert lens.assetOf(unknown).dict() == {"assetId": 0, "allowed": False}
    assert lens.isAssetAllowed(token) and lens.isAssetAllowed(ZERO) and not lens.isAssetAllowed(unknown)
    market.setAssetAllowed(token, False, {"from": admin})
    assert lens.assetOf(token).dict() == {"assetId": 1, "allowed": False}


def test_money_views(lens, scene, market, token, seller, buyer):
    assert lens.feesAccrued(ZERO) == FEE
    assert lens.owed(ZERO, seller) == PRICE - FEE == market.balanceOwed(ZERO, seller)
    assert lens.owed(ZERO, buyer) == 0
    assert lens.feesAccrued(token) == 0
    assert lens.tokenHeld(token) == PRICE
    assert lens.tokenHeld(ZERO) == 0
    unknown = "0x" + "44" * 20
    assert lens.owed(unknown, seller) == 0
    assert lens.feesAccrued(unknown) == 0  # not the RBTC fees
    assert lens.tokenHeld(unknown) == 0


def test_expiry_and_validity(lens, scene, market, buyer, stranger):
    ds = scene["ds"].dataset_id
    assert lens.expiresAt(scene["pending"]) == 0
    assert lens.expiresAt(scene["delivered"]) == scene["dtx"].timestamp + 10 * DAY
    assert lens.expiresAt(scene["disputed"]) == 0
    assert lens.hasValidLicence(stranger, ds, scene["delivered"])
    assert not lens.hasValidLicence(buyer, ds, scene["delivered"])
    assert not lens.hasValidLicence(buyer, ds, scene["pending"])
    assert lens.hasValidLicence(buyer, ds, scene["settled"])
    assert not lens.hasValidLicence(buyer, ds + 1, scene["settled"])
    assert not lens.hasValidLicence(ZERO, 0, 999)
    sleep(10 * DAY + 1)
    assert not lens.hasValidLicence(buyer, ds, scene["settled"])
    assert lens.expiresAt(scene["settled"]) > 0


def test_offer(lens, scene, market, seller, admin, token):
    ds = scene["ds"].dataset_id
    settings_id = lens.platform()["settingsId"]  # the scene changed the settings once
    assert settings_id == 2
    assert lens.offer(ds).dict() == {"termsId": dataset_of(lens, ds).terms_id, "version": 1, "price": PRICE,
                                     "asset": ZERO, "onSale": True, "settingsId": settings_id}
    tok = scene["tok"].dataset_id
    assert lens.offer(tok).dict() == {"termsId": dataset_of(lens, tok).terms_id, "version": 1, "price": PRICE,
                                      "asset": token, "onSale": True, "settingsId": settings_id}
    market.setSettings(0, 0, {"from": admin})
    assert lens.offer(ds).dict()["settingsId"] == settings_id + 1
    assert lens.offer(999)["onSale"] is False
    market.pauseSales(ds, {"from": seller})
    assert lens.offer(ds)["onSale"] is False
    market.resumeSales(ds, {"from": seller})
    market.setAssetAllowed(token, False, {"from": admin})  # a delisted token: no sales in it
    assert lens.offer(tok)["onSale"] is False
    sold_out = publish(market, seller, cap=1)
    buy(market, sold_out.dataset_id, seller)
    assert lens.offer(sold_out.dataset_id)["onSale"] is False
    market.setEmergencyPause(True, {"from": admin})
    assert lens.offer(ds)["onSale"] is False


def test_a_lens_reads_any_marketplace(market, admin, seller):
    other = DataLicenseLens.deploy(market, {"from": admin})
    pub = publish(market, seller)
    assert dataset_of(other, pub.dataset_id).owner == seller
