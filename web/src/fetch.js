// Fetch a licensed dataset in the page: pick the delivery and the version it opens (delivery.js, the rule shared
// with datalicense/protocol/delivery.py), unwrap the key and check it against that version's commitment and
// manifest, stream the ciphertext from the IPFS gateway through age decryption and SHA-256, and only when the
// digest and size match the chain hand out the file (a Blob built in slices, so the data is not held twice).
import { Decrypter, identityToRecipient } from 'age-encryption';
import { sha256 } from '@noble/hashes/sha2.js';
import { ageIdentity, bytesToHex, deliveryKey, hexToBytes, keccak, unwrapKey } from './crypto.js';
import { checkManifest, checkPlaintext, mayConfirm, targets } from './delivery.js';

export class IntegrityError extends Error {}

const before = (a, b) => a.block < b.block || (a.block === b.block && a.logIndex < b.logIndex);

/** The delivery key named last before a delivery (the purchase's, or a rotation's). */
export function keyInForce(licence, delivery) {
  const named = licence.keys.filter((k) => before(k, delivery));
  return named.length ? named[named.length - 1] : licence.keys[0];
}

/** The one-time private key of a named delivery key, re-derived from the wallet's seed and the naming tx's nonce. */
export function privateKeyFor(seed, key) {
  const k = deliveryKey(seed, BigInt(key.nonce));
  if (bytesToHex(k.x) !== key.x.slice(2) || bytesToHex(k.y) !== key.y.slice(2)) {
    throw new IntegrityError('this wallet did not name the delivery key of this licence: use the account that bought it');
  }
  return k.p;
}

/** Open one delivery: {contentKey, p, right} (right: keccak256(K) is the commitment the delivery names). */
export function openDelivery(licence, delivery, seed) {
  const p = privateKeyFor(seed, keyInForce(licence, delivery));
  const contentKey = unwrapKey(hexToBytes(delivery.rX), hexToBytes(delivery.rY), hexToBytes(delivery.wrappedKey),
    BigInt(licence.licenceId), p);
  const right = '0x' + bytesToHex(keccak(contentKey)) === delivery.keyHash.toLowerCase();
  return { contentKey, p, right };
}

/** The escrowed delivery, opened (what a key dispute proves wrong). */
export function escrowedOpening(licence, seed) {
  const delivery = licence.deliveries.find((d) => d.escrowed);
  return delivery ? { delivery, ...openDelivery(licence, delivery, seed) } : null;
}

/** What to fetch: {delivery, version, contentKey, p, right, confirm}. The escrowed delivery, bound to the version
 * bought, is always opened first (a wrong key there is shown, to be proved); once settled, a delivery of a newer
 * version of the licence's own dataset wins if its key opens that version's commitment. `confirm`: this is the
 * escrowed delivery of the version bought and the licence is Delivered. */
export function chooseDelivery(licence, seed) {
  const found = targets(licence.state, licence.datasetId, licence.version, licence.versions, licence.deliveries);
  const escrowed = found[found.length - 1];
  const opened = { ...escrowed, ...openDelivery(licence, escrowed.delivery, seed) };
  opened.confirm = mayConfirm(licence.state, escrowed, licence.version);
  if (!opened.right) return opened;
  for (const t of found.slice(0, -1)) {
    try {
      const o = openDelivery(licence, t.delivery, seed);
      if (o.right) return { ...t, ...o, confirm: false };
    } catch { /* a delivery to a key this wallet did not name is skipped */ }
  }
  return opened;
}

/** The age recipient the content key opens. */
export async function keyRecipient(contentKey) {
  return identityToRecipient(ageIdentity(contentKey));
}

function limitStream(body, exact) {
  let seen = 0;
  return body.pipeThrough(new TransformStream({
    transform(chunk, ctl) {
      seen += chunk.length;
      if (seen > exact) throw new IntegrityError(`the gateway sent more than the ${exact} bytes the manifest promises`);
      ctl.enqueue(chunk);
    },
    flush() {
      if (seen !== exact) throw new IntegrityError(`the gateway sent ${seen} of the ${exact} bytes the manifest promises`);
    },
  }));
}

/** Download, decrypt and verify the version `opened` was bound to; returns {blob, size, sha256}.
 * progress(bytesOut, total). */
export async function fetchVerified(gatewayUrl, opened, progress = () => {}) {
  const v = opened.version;
  const m = v.manifest;
  if (!m || m.error) throw new IntegrityError(`the manifest of version ${v.version} cannot be used: ${m ? m.error : 'missing'}`);
  checkManifest(v, m.plaintext.sha256, m.encryption.recipient, await keyRecipient(opened.contentKey));
  const identity = ageIdentity(opened.contentKey);
  const resp = await fetch(`${gatewayUrl}/ipfs/${m.ciphertext.cid}`);
  if (!resp.ok || !resp.body) throw new IntegrityError(`the IPFS gateway answered ${resp.status} for the ciphertext`);
  const dec = new Decrypter();
  dec.addIdentity(identity);
  const plain = await dec.decrypt(limitStream(resp.body, m.ciphertext.size));
  const hash = sha256.create();
  const slices = [];
  let pending = [];
  let pendingSize = 0;
  let size = 0;
  const reader = plain.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    size += value.length;
    pending.push(value);
    pendingSize += value.length;
    if (pendingSize >= 8 << 20) { // fold into a Blob: the browser keeps Blob data out of the JS heap
      slices.push(new Blob(pending));
      pending = [];
      pendingSize = 0;
    }
    progress(size, m.plaintext.size);
  }
  const digest = bytesToHex(hash.digest());
  checkPlaintext(v, digest, size, m.plaintext.size);
  return { blob: new Blob([...slices, ...pending], { type: m.mediaType || 'application/octet-stream' }), size, sha256: digest };
}
