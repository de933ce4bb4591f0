"""DataLicenseLens: every view against known values, and every word it decodes against the same storage read the
compiler's way (solc's storage layout and eth_getStorageAt), the contract's own getters and the package's records,
for a licence in every state."""

import re

import pytest
from brownie import DataLicenseLens, TestToken
from eth_utils import keccak

from helpers import (
    BOND, DAY, FEE_BPS, PRICE, ZERO, buy, buy_token, dataset_of, deliver, dispute_key, licence_of, publish, reverts,
    settings_of, sleep, terms_of,
)
from layout import Storage, storage_layout
from datalicense.protocol import keywrap, records, slots
from datalicense.infra.market import Market
from datalicense.protocol.records import Licence, Settings, State, Terms, TermsFlag

pytestmark = pytest.mark.chain

FEE = PRICE * FEE_BPS // 10000
ZERO32 = "0x" + "00" * 32


# ------------------------------------------------------------------------------------------ storage layout

@pytest.fixture(scope="module")
def layout():
    """DataLicense's storage layout as solc reports it."""
    return storage_layout()


def _variables(layout):
    return {v["label"]: (int(v["slot"]), v["offset"], v["type"]) for v in layout["storage"]}


#: records.SLOT_* (the lens has the same constants) -> DataLicense variable (the first of the slot, for packed ones).
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


def test_record_slots_match_the_storage_layout(layout):
    """The package's records (datalicense/protocol/records.py) read the slots the compiler gave each variable."""
    variables = _variables(layout)
    for const, label in SLOT_VARIABLES.items():
        slot, offset, _ = variables[label]
        assert (getattr(records, const), 0) == (slot, offset), f"records.{const}, but {label} is at slot {slot}"


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


def _int(value) -> int:
    """A lens result (bytes32, address, enum, flags, number) as the number it is in storage."""
    if isinstance(value, bytes):
        return int.from_bytes(value, "big")
    return int(value, 16) if isinstance(value, str) else int(value)


def _ints(record) -> dict[str, int]:
    """A lens struct as {field: int}."""
    return {k: _int(v) for k, v in record.dict().items()}


@pytest.fixture(scope="module")
def storage(layout, market):
    return Storage(layout, market.address)


@pytest.fixture(scope="module")
def records_market(market):
    """The package's own typed reads of the marketplace (datalicense.infra.market.Market)."""
    from datalicense.infra.chain import connect

    return Market(connect("local"), market.address)


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


# ------------------------------------------------------------------------- decoded words against the storage


@pytest.fixture
def every_state(scene, market, buyer, agent, arbiter):
    """{state: licence id} for every state a licence can be in (None: an id never sold), on top of the scene."""
    ds = scene["ds"]
    refunded, _, _ = buy(market, ds.dataset_id, buyer)
    resolved, rkey, _ = buy(market, ds.dataset_id, buyer)
    deliver(market, resolved, ds, rkey, agent)
    market.disputeData(resolved, {"from": buyer, "value": 3 * BOND})  # the scene raised the bond
    market.resolveData(resolved, 4000, {"from": arbiter})
    sleep(DAY + 1)  # the delivery window of `refunded` has passed
    market.refund(refunded, {"from": buyer})
    ids = {State.NONE: 999, State.PENDING: scene["pending"], State.DELIVERED: scene["delivered"],
           State.SETTLED: scene["settled"], State.DATA_DISPUTED: scene["disputed"], State.REFUNDED: refunded,
           State.RESOLVED: resolved}
    assert set(ids) == set(State), "a new licence state: give it a licence here"
    return ids


def test_lens_licence_matches_storage_records_and_getters_in_every_state(lens, market, storage, records_market,
                                                                          every_state):
    for state, lid in every_state.items():
        raw = storage.struct("_licences", lid)
        assert _ints(lens.licence(lid)) == raw, f"{state.name}: lens {lens.licence(lid)}, storage {raw}"
        lic = licence_of(lens, lid)
        assert lic == records_market.licence(lid), f"{state.name}: the package's record differs from the lens"
        assert lic.state == state
        assert lens.expiresAt(lid) == records_market.expires_at(lid), state.name
        if state == State.NONE:
            with reverts("ERC721NonexistentToken"):
                market.ownerOf(lid)
            continue
        assert market.ownerOf(lid) == lic.holder, state.name
        dataset_id = terms_of(lens, lic.terms_id).dataset_id
        assert lens.hasValidLicence(lic.holder, dataset_id, lid) == market.isValid(lid), state.name
        assert lens.licenceSettings(lid).dict() == storage.struct("_settings", lic.settings_id), state.name
        assert (lens.bondOf(lid), lens.disputeOpenedAt(lid)) == records_market.dispute(lid), state.name
        assert _int(lens.deliveryRecord(lid)) == storage.value("_delivery", lid), state.name
    assert market.isValid(every_state[State.SETTLED]) and not market.isValid(every_state[State.RESOLVED])


def test_lens_datasets_terms_and_settings_match_storage_and_records(lens, market, storage, records_market, scene,
                                                                     every_state):
    for dataset_id in (scene["ds"].dataset_id, scene["tok"].dataset_id, 999):
        d = lens.dataset(dataset_id)
        assert _ints(d) == storage.struct("_datasets", dataset_id), dataset_id
        assert dataset_of(lens, dataset_id) == records_market.dataset(dataset_id)
        assert _ints(lens.terms(d["termsId"])) == storage.struct("_terms", d["termsId"]), d["termsId"]
        assert terms_of(lens, d["termsId"]) == records_market.terms(d["termsId"])
        assert lens.royaltyBps(d["termsId"]) == storage.value("_royaltyBps", d["termsId"])
        assert _int(lens.agentOf(dataset_id)) == storage.value("_agents", dataset_id)
        assert _int(lens.pendingDatasetOwner(dataset_id)) == storage.value("_pendingOwners", dataset_id)
        for version in range(1, d["version"] + 2):
            assert _int(lens.keyHashOfVersion(dataset_id, version)) == storage.value("_keyHash", dataset_id, version)
            assert bytes(lens.keyHashOfVersion(dataset_id, version)) == records_market.key_hash(dataset_id, version)
    for settings_id in (1, 2, 3):
        assert _ints(lens.settingsOf(settings_id)) == storage.struct("_settings", settings_id)
        assert settings_of(lens, settings_id) == records_market.settings(settings_id)
    # the contract's own ERC-2981 getter names the same owner and share as the lens's dataset and royalty
    lid = every_state[State.SETTLED]
    terms_id = licence_of(lens, lid).terms_id
    owner = dataset_of(lens, terms_of(lens, terms_id).dataset_id).owner
    assert market.royaltyInfo(lid, 10_000) == (owner, lens.royaltyBps(terms_id))


def test_lens_counters_platform_and_money_match_storage_and_getters(lens, market, storage, records_market, scene,
                                                                    token, seller, buyer, stranger, every_state):
    assert lens.counters().dict() == {"lastLicenceId": storage.value("_lastLicenceId"),
                                      "lastDatasetId": storage.value("_lastDatasetId"),
                                      "lastTermsId": storage.value("_lastTermsId")}
    settings_id = storage.value("_settingsId")
    p = lens.platform().dict()
    assert p["settingsId"] == settings_id == records_market.current_settings_id()
    assert {"feeBps": p["feeBps"], "disputeBond": p["disputeBond"]} == storage.struct("_settings", settings_id)
    assert _int(p["feeRecipient"]) == storage.value("_feeRecipient")
    assert _int(p["arbiter"]) == storage.value("_arbiter")
    assert p["emergencyPaused"] == bool(storage.value("_emergencyPaused"))
    assert p["assetCount"] == storage.value("_assetCount")
    assert lens.admin() == market.owner() and _int(lens.admin()) == storage.value("_owner")
    for asset_id in (0, 1, 2):
        assert _int(lens.assetAddress(asset_id)) == storage.value("_assetAddress", asset_id)
    for asset in (ZERO, token.address):
        asset_id = lens.assetOf(asset)["assetId"]
        assert lens.feesAccrued(asset) == storage.value("_fees", asset_id) == records_market.fees_accrued(asset_id)
        assert lens.tokenHeld(asset) == (storage.value("_held", asset_id) if asset_id else 0)
        for account in (seller, buyer, stranger):
            owed = lens.owed(asset, account)
            assert owed == storage.value("_owed", asset_id, account.address) == market.balanceOwed(asset, account)
    assert lens.owed(ZERO, buyer) > 0  # the refund and the ruling credited the buyer: the reads are not all zero
