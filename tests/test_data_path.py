"""The data path on the real local stack (Ganache + Kubo): publish, list, show, buy, deliver, fetch."""

import hashlib
import json
import os
import subprocess

import pytest
from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD

from datalicense import ChainError, Client, ConfigError, IntegrityError
from datalicense.protocol import age as agecrypt, keywrap
from datalicense.infra.chain import connect
from datalicense.protocol.manifest import Manifest, ManifestError, now, parse
from datalicense.infra.ipfs import Storage, cid_to_bytes

from helpers import ZERO, terms

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(kubo, market, tmp_path):
    w3 = connect("local")

    def make(n, home=None):
        from datalicense.infra.chain import load_account

        return Client(w3, load_account(f"dev:{n}", w3), Storage(kubo.api_multiaddr), market.address,
                      home or tmp_path / f"home{n}")

    return make


def _file(path, size):
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 22)
            f.write(os.urandom(n))
            left -= n
    return path


@pytest.mark.parametrize("size", [1, 3 * 1024 * 1024 + 17])  # an empty file is refused (test_publish_interrupt)
def test_publish_buy_deliver_fetch_round_trip(client, tmp_path, size):
    seller, buyer = client(3), client(4)
    src = _file(tmp_path / "data.bin", size)
    pub = seller.seller.publish(src, title="Sensor log", price="0.002", description="test data")
    assert pub.plaintext_size == size
    assert pub.plaintext_sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    info = buyer.reader.dataset(pub.dataset_id)
    assert info.manifest["title"] == "Sensor log"
    assert info.price_text == "0.002 RBTC"
    bought = buyer.buyer.buy(pub.dataset_id)
    seller.seller.deliver(bought.licence_id)
    out = tmp_path / "out" / "data.bin"
    out.parent.mkdir(exist_ok=True)
    res = buyer.buyer.fetch(bought.licence_id, out)
    assert out.read_bytes() == src.read_bytes()
    assert res.confirmed_tx is not None
    assert buyer.reader.licence(bought.licence_id).state == "Settled"


def test_large_file_round_trip(client, tmp_path):
    """Several hundred MiB through encrypt, Kubo, download and decrypt, byte for byte."""
    seller, buyer = client(3), client(4)
    src = _file(tmp_path / "big.bin", 300 * 1024 * 1024)
    pub = seller.seller.publish(src, title="Big", price="0.002")
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    seller.seller.deliver(lid)
    out = tmp_path / "big.out"
    res = buyer.buyer.fetch(lid, out)
    assert res.sha256 == pub.plaintext_sha256
    assert os.path.getsize(out) == 300 * 1024 * 1024
    with open(src, "rb") as a, open(out, "rb") as b:
        while True:
            x, y = a.read(1 << 22), b.read(1 << 22)
            assert x == y
            if not x:
                break


def test_ciphertext_opens_with_the_reference_age_cli(client, kubo, tmp_path):
    seller = client(3)
    src = _file(tmp_path / "data.bin", 100_000)
    pub = seller.seller.publish(src, title="Interop", price="0.001")
    key = seller.keys.content_key(pub.dataset_id, bytes.fromhex(pub.key_hash[2:]))
    cipher = tmp_path / "c.age"
    with open(cipher, "wb") as f:
        seller.conn.storage.cat_to_file(pub.ciphertext_cid, f)
    ident = tmp_path / "id.txt"
    ident.write_text(agecrypt.identity_string(key) + "\n")
    out = subprocess.run(["age", "-d", "-i", str(ident), str(cipher)], capture_output=True, check=True)
    assert out.stdout == src.read_bytes()


def test_recorded_cid_equals_kubo_cli(client, kubo, tmp_path):
    seller = client(3)
    src = _file(tmp_path / "data.bin", 2_500_000)
    pub = seller.seller.publish(src, title="CID", price="0.001")
    cipher = tmp_path / "c.age"
    with open(cipher, "wb") as f:
        seller.conn.storage.cat_to_file(pub.ciphertext_cid, f)
    env = dict(os.environ, IPFS_PATH=str(kubo.repo))
    cli = subprocess.run([kubo.binary, "add", "-Q", "--only-hash", "--cid-version", "1", str(cipher)],
                         capture_output=True, text=True, check=True, env=env)
    assert cli.stdout.strip() == pub.ciphertext_cid
    assert seller.conn.storage.stat(pub.ciphertext_cid)["size"] == cipher.stat().st_size
    assert seller.conn.storage.is_pinned(pub.ciphertext_cid)


def test_listing_is_incremental(client, tmp_path):
    seller = client(3)
    for i in range(3):
        seller.seller.publish(_file(tmp_path / f"d{i}.bin", 10 + i), title=f"Set {i}", price="0.001")
    buyer = client(4)
    listed = buyer.reader.datasets()
    assert [d.dataset_id for d in listed][-3:] == [1, 2, 3] or len(listed) >= 3
    first_read = buyer.reader.index.blocks_read
    assert first_read > 0
    buyer.reader.datasets()
    assert buyer.reader.index.blocks_read == 0  # nothing new: no block read again
    seller.seller.publish(_file(tmp_path / "d9.bin", 99), title="Set 9", price="0.001")
    assert len(buyer.reader.datasets()) == len(listed) + 1
    assert 0 < buyer.reader.index.blocks_read < first_read + 5
    # a second client over the same home folder starts from the cache
    again = client(4, home=buyer.conn.home)
    again.reader.datasets()
    assert again.reader.index.blocks_read == 0


def test_wrong_key_gives_a_clear_error_and_no_file(client, market, tmp_path):
    seller, buyer = client(3), client(4)
    pub = seller.seller.publish(_file(tmp_path / "d.bin", 1000), title="T", price="0.001")
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    # the seller wraps some other key, bound to the real commitment
    purchase = seller.reader.purchase_event(lid)["args"]
    x, y = bytes(purchase["keyX"]), bytes(purchase["keyY"])
    w = keywrap.wrap_key(os.urandom(32), lid, x, y, 99)
    seller.conn.tx.send(seller.conn.contract.functions.deliverKey(
        lid, Web3.to_checksum_address(keywrap.point_address(x, y)), bytes.fromhex(pub.key_hash[2:]), *w.as_args()))
    out = tmp_path / "never.bin"
    with pytest.raises(IntegrityError, match="dispute"):
        buyer.buyer.fetch(lid, out)
    assert not out.exists()
    assert not list(tmp_path.glob(".datalicense-*"))
    # the buyer proves it alone, in one transaction, and is refunded at once
    buyer.buyer.dispute(lid)
    assert buyer.reader.licence(lid).state == "Refunded"
    assert buyer.reader.owed() == 10**15


def test_a_dispute_of_a_right_key_is_refused_before_it_is_sent(client, tmp_path):
    seller, buyer = client(3), client(4)
    pub = seller.seller.publish(_file(tmp_path / "d.bin", 1000), title="T", price="0.001")
    lid = buyer.buyer.buy(pub.dataset_id).licence_id
    seller.seller.deliver(lid)
    nonce = buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address)
    with pytest.raises(ChainError, match="key .* is right"):
        buyer.buyer.dispute(lid)
    assert buyer.conn.w3.eth.get_transaction_count(buyer.conn.account.address) == nonce  # nothing was sent
    assert buyer.reader.licence(lid).state == "Delivered"


def _publish_raw(seller, manifest_bytes, plaintext_hash, content_key):
    fn = seller.conn.contract.functions.publish(
        cid_to_bytes(seller.conn.storage.add_bytes(manifest_bytes)), plaintext_hash, keccak(content_key),
        keccak(b"t"), terms(price=10**15), ZERO)
    rcpt = seller.conn.tx.send(fn)
    ds = seller.conn.contract.events.DatasetPublished().process_receipt(rcpt.raw, errors=DISCARD)[0]["args"]["datasetId"]
    seller.keys.save_content_key(ds, content_key)
    return ds


def _manifest(seller, cipher_cid, cipher_size, size, sha, key):
    return Manifest("T", "", "application/octet-stream", size, sha, cipher_cid, cipher_size,
                    agecrypt.recipient_of(key), "0x" + "11" * 32, seller.conn.account.address, now()).to_json()


def test_tampered_ciphertext_is_refused_and_nothing_is_written(client, tmp_path):
    seller, buyer = client(3), client(4)
    key = agecrypt.new_content_key()
    plain = os.urandom(5000)
    junk = tmp_path / "junk.age"
    junk.write_bytes(b"age-encryption.org/v1\n" + os.urandom(4000))  # not what the key encrypted
    cid = seller.conn.storage.add_file(junk)
    sha = hashlib.sha256(plain).digest()
    ds = _publish_raw(seller, _manifest(seller, cid, 4022, 5000, sha.hex(), key), sha, key)
    lid = buyer.buyer.buy(ds).licence_id
    seller.seller.deliver(lid)
    out = tmp_path / "out.bin"
    with pytest.raises(IntegrityError, match="nothing was written|no output"):
        buyer.buyer.fetch(lid, out)
    assert not out.exists()
    assert buyer.reader.licence(lid).state == "Delivered"  # not confirmed


def test_content_not_matching_its_commitment_is_refused(client, tmp_path):
    seller, buyer = client(3), client(4)
    key = agecrypt.new_content_key()
    other = tmp_path / "other.bin"
    other.write_bytes(os.urandom(3000))
    cipher = tmp_path / "c.age"
    with open(other, "rb") as fin, open(cipher, "wb") as fout:
        agecrypt.encrypt_stream(fin, fout, key)
    cid = seller.conn.storage.add_file(cipher)
    promised = hashlib.sha256(b"what the seller promised").hexdigest()
    ds = _publish_raw(seller, _manifest(seller, cid, cipher.stat().st_size, 3000, promised, key),
                      bytes.fromhex(promised), key)
    lid = buyer.buyer.buy(ds).licence_id
    seller.seller.deliver(lid)
    out = tmp_path / "out.bin"
    with pytest.raises(IntegrityError, match="does not match the on-chain plaintext hash"):
        buyer.buyer.fetch(lid, out)
    assert not out.exists()


def test_manifest_validation_rejects_bad_documents(client, tmp_path):
    seller = client(3)
    good = json.loads(_manifest(seller, "bafkreiablk6x6xgfpiw5ss3vsdyevwaiijzzaxxdh3c45pvomitwvf7ymi", 10, 1,
                                "ab" * 32, agecrypt.new_content_key()))
    assert parse(json.dumps(good).encode()).title == "T"
    for mutate, reason in [
        (lambda d: d.update(version=2), "schema version"),
        (lambda d: d.pop("title"), "no 'title'"),
        (lambda d: d["plaintext"].update(sha256="xyz"), "sha256"),
        (lambda d: d["ciphertext"].update(cid="not-a-cid"), "not a valid IPFS CID"),
        (lambda d: d["encryption"].update(scheme="rot13"), "not supported"),
        (lambda d: d.update(publisher="bob"), "publisher"),
        (lambda d: d["plaintext"].update(size="12"), "wrong type"),
    ]:
        doc = json.loads(json.dumps(good))
        mutate(doc)
        with pytest.raises(ManifestError, match=reason):
            parse(json.dumps(doc).encode())
    with pytest.raises(ManifestError, match="not JSON"):
        parse(b"{")


def test_publish_validates_input(client, tmp_path):
    seller = client(3)
    with pytest.raises(ConfigError, match="not a readable file"):
        seller.seller.publish(tmp_path / "missing.bin", title="x", price="1")
    with pytest.raises(ConfigError, match="not an amount"):
        seller.seller.publish(_file(tmp_path / "a.bin", 3), title="x", price="lots")


def test_publish_again_reuses_the_upload_without_reading_the_file_again(client, tmp_path):
    """The streamed publish remembers its upload by the file's identity (path, inode, size, times) and by its
    content: a re-run on the same file, or on a touched copy of it, reuses the same CIDs and never publishes twice."""
    seller = client(3)
    src = _file(tmp_path / "same.bin", 600_000)
    first = seller.seller.publish(src, title="Same", price="0.001")
    again = seller.seller.publish(src, title="Same", price="0.001")
    assert again.reused and (again.dataset_id, again.manifest_cid) == (first.dataset_id, first.manifest_cid)
    copy = tmp_path / "copy.bin"
    copy.write_bytes(src.read_bytes())  # another file, same content: found by its hash after one streamed pass
    third = seller.seller.publish(copy, title="Same", price="0.001")
    assert third.reused and third.ciphertext_cid == first.ciphertext_cid
    assert len(list((seller.conn.state_dir / "uploads").glob("*.json"))) == 1
    assert not list((seller.conn.state_dir / "uploads").glob(".datalicense-*"))  # no temporary ciphertext file
