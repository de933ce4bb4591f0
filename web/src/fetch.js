// Fetch a licensed dataset in the page: unwrap the delivered key, check it against its commitment and the
// manifest, stream the ciphertext from the IPFS gateway through age decryption and SHA-256, and only when the
// digest and size match the chain hand out the file (a Blob built in slices, so the data is not held twice).
import { Decrypter, identityToRecipient } from 'age-encryption';
import { sha256 } from '@noble/hashes/sha2.js';
import { ageIdentity, bytesToHex, deliveryKey, hexToBytes, keccak, unwrapKey } from './crypto.js';

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
    BigInt(licence.licence_id), p);
  const right = '0x' + bytesToHex(keccak(contentKey)) === delivery.keyHash.toLowerCase();
  return { contentKey, p, right };
}

/** The delivery to fetch: the escrowed one while in escrow; once settled the newest one that opens. */
export function chooseDelivery(licence, seed) {
  const escrowed = licence.deliveries.find((d) => d.escrowed);
  if (!escrowed) return null;
  const opened = { delivery: escrowed, ...openDelivery(licence, escrowed, seed) };
  if (licence.state !== 'Settled' || !opened.right) return opened;
  let best = opened;
  for (const d of licence.deliveries) {
    if (d.escrowed || d.version == null || d.version <= (best.delivery.version || 0)) continue;
    try {
      const o = openDelivery(licence, d, seed);
      if (o.right) best = { delivery: d, ...o };
    } catch { /* a delivery to a key this wallet did not name is skipped */ }
  }
  return best;
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

/** Download, decrypt and verify; returns {blob, size, sha256}. progress(bytesOut, total). */
export async function fetchVerified(gatewayUrl, opened, progress = () => {}) {
  const d = opened.delivery;
  const m = d.manifest;
  if (!m || m.error) throw new IntegrityError(`the manifest of this version cannot be used: ${m ? m.error : 'missing'}`);
  if ('0x' + m.plaintext.sha256 !== d.plaintextSha256.toLowerCase()) {
    throw new IntegrityError("the manifest's plaintext hash differs from the on-chain commitment");
  }
  const identity = ageIdentity(opened.contentKey);
  if ((await identityToRecipient(identity)) !== m.encryption.recipient) {
    throw new IntegrityError('the manifest names a recipient the delivered key does not open');
  }
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
  if (digest !== d.plaintextSha256.slice(2).toLowerCase() || size !== m.plaintext.size) {
    throw new IntegrityError(`the decrypted data does not match the on-chain hash (got ${digest.slice(0, 16)}…): nothing offered`);
  }
  return { blob: new Blob([...slices, ...pending], { type: m.mediaType || 'application/octet-stream' }), size, sha256: digest };
}
