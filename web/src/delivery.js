// Verifying a delivery, as datalicense/protocol/delivery.py decides it: which delivery opens which version of
// which dataset, and the checks a content key, a manifest and the decrypted data must pass. Pure; the shared
// vectors (tests/vectors/delivery.json) are run against these functions in Chromium (tests/test_web_delivery.py).
//
// Records: a version {datasetId, version, manifestCid, plaintextHash, keyHash, block}; a delivery {escrowed, block,
// logIndex, keyHash}. The escrowed delivery opens the version bought; a redelivery (settled licences) the version
// of the licence's own dataset current at its block; a commitment alone never picks a version.
import { bytesToHex, keccak } from './crypto.js';

export const SETTLED = 'Settled';
export const DELIVERED = 'Delivered';

/** A failed check; `code` is the Python DeliveryError's. */
export class DeliveryError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const lower = (h) => String(h).toLowerCase();

function own(datasetId, versions) {
  const out = new Map();
  for (const v of versions) if (Number(v.datasetId) === Number(datasetId)) out.set(Number(v.version), v);
  return out;
}

/** The version of dataset `datasetId` a delivery opens, or null when its commitment is not that version's. */
export function boundVersion(delivery, datasetId, bought, versions) {
  const mine = own(datasetId, versions);
  let v;
  if (delivery.escrowed) {
    v = mine.get(Number(bought));
  } else {
    const at = [...mine.values()].filter((x) => x.block <= delivery.block).map((x) => Number(x.version));
    v = at.length ? mine.get(Math.max(...at)) : undefined;
  }
  return v && lower(v.keyHash) === lower(delivery.keyHash) ? v : null;
}

/** The deliveries to try, best first: [{index, delivery, version}]. In escrow the escrowed delivery of the version
 * bought alone; settled: newer versions' deliveries newest first, then the escrowed one. */
export function targets(state, datasetId, bought, versions, deliveries) {
  const first = deliveries.findIndex((d) => d.escrowed);
  if (first < 0) {
    throw new DeliveryError('no-delivery', "the licence has no key delivery yet: wait for the seller's agent, or claim a refund after the delivery deadline");
  }
  const v = boundVersion(deliveries[first], datasetId, bought, versions);
  if (!v) {
    throw new DeliveryError('escrow-not-bought', `the escrowed delivery is not for version ${bought} of dataset ${datasetId}, the version bought: nothing was offered or confirmed`);
  }
  const out = [{ index: first, delivery: deliveries[first], version: v }];
  if (state !== SETTLED) return out;
  const newer = [];
  deliveries.forEach((d, index) => {
    const nv = d.escrowed ? null : boundVersion(d, datasetId, bought, versions);
    if (nv && Number(nv.version) > Number(bought)) newer.push({ index, delivery: d, version: nv });
  });
  const key = (t) => [Number(t.version.version), t.delivery.block, t.delivery.logIndex];
  newer.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return y[0] - x[0] || y[1] - x[1] || y[2] - x[2];
  });
  return [...newer, ...out];
}

/** Confirming pays the seller: only a Delivered licence, after its escrowed delivery of the version bought verified. */
export function mayConfirm(state, target, bought) {
  return state === DELIVERED && target.delivery.escrowed && Number(target.version.version) === Number(bought);
}

/** keccak256(K) is the version's commitment. */
export function checkKey(contentKey, version) {
  if ('0x' + bytesToHex(keccak(contentKey)) !== lower(version.keyHash)) {
    throw new DeliveryError('wrong-key', `the key delivered for version ${version.version} does not open its commitment: prove it with a key dispute (you are refunded at once)`);
  }
}

/** The manifest commits to the version's plaintext hash and names the recipient the key opens (`keyRecipient`). */
export function checkManifest(version, plaintextSha256, recipient, keyRecipient) {
  if ('0x' + lower(plaintextSha256).replace(/^0x/, '') !== lower(version.plaintextHash)) {
    throw new DeliveryError('manifest-hash', `the manifest of dataset ${version.datasetId} version ${version.version} differs from the on-chain plaintext hash: nothing offered`);
  }
  if (recipient !== keyRecipient) {
    throw new DeliveryError('manifest-recipient', `the manifest of dataset ${version.datasetId} version ${version.version} names a recipient the delivered key does not open: nothing offered`);
  }
}

/** The decrypted data's SHA-256 is the version's commitment and its size the manifest's. */
export function checkPlaintext(version, sha256Hex, size, manifestSize) {
  if ('0x' + lower(sha256Hex) !== lower(version.plaintextHash) || size !== manifestSize) {
    throw new DeliveryError('plaintext', `the decrypted data does not match the on-chain plaintext hash of version ${version.version} (got ${sha256Hex.slice(0, 16)}…): nothing offered`);
  }
}

/** {version: [other versions of the dataset with its key commitment]} for the versions that share one. */
export function reusedCommitments(datasetId, versions) {
  const byHash = new Map();
  for (const [n, v] of [...own(datasetId, versions)].sort((a, b) => a[0] - b[0])) {
    const k = lower(v.keyHash);
    byHash.set(k, [...(byHash.get(k) || []), n]);
  }
  const out = {};
  for (const same of byHash.values()) {
    if (same.length > 1) for (const n of same) out[String(n)] = same.filter((m) => m !== n);
  }
  return out;
}

/** A new version must carry a key commitment no other version of the dataset uses. */
export function checkFreshCommitment(datasetId, keyHash, versions) {
  const used = [...own(datasetId, versions).values()].filter((v) => lower(v.keyHash) === lower(keyHash))
    .map((v) => Number(v.version)).sort((a, b) => a - b);
  if (used.length) {
    throw new DeliveryError('reused-commitment', `version ${used[0]} of dataset ${datasetId} already uses this key commitment`);
  }
}
