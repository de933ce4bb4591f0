// The buyer's side of key delivery, as datalicense/keywrap.py and datalicense/agecrypt.py do it:
// one-time delivery keys derived from a wallet signature, the secp256k1 unwrap, the age identity of a content key.
// tests/vectors/delivery_keys.json are checked against these functions in the browser (tests/test_web.py).
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bech32 } from '@scure/base';

export const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const enc = new TextEncoder();

export function hexToBytes(hex) {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (h.length % 2 || /[^0-9a-fA-F]/.test(h)) throw new Error('malformed hex');
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function uint256(n) {
  let v = BigInt(n);
  if (v < 0n || v >= 1n << 256n) throw new Error('not a uint256');
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

export const toBig = (b) => BigInt('0x' + (bytesToHex(b) || '0'));
export const keccak = (b) => keccak_256(b);

/** The 20-byte address of a point: last 20 bytes of keccak256(x || y). */
export function pointAddress(x, y) {
  return keccak_256(concat(x, y)).slice(12);
}

function affine(point) {
  const a = point.toAffine();
  return [uint256(a.x), uint256(a.y)];
}

/** The fixed message a wallet signs (personal_sign) to derive its delivery keys on one marketplace. */
export function deliveryKeyMessage(chainId, contract) {
  return 'DataLicense delivery keys\n' +
    `chain: ${Number(chainId)}\n` +
    `contract: ${contract.toLowerCase()}\n` +
    'Signing this derives the one-time keys your data licences are delivered to. ' +
    'Sign it only in DataLicense software you trust.';
}

/** keccak256("datalicense/delivery-seed/v1" || 65-byte signature). */
export function deliverySeed(signature) {
  if (signature.length !== 65) throw new Error('a wallet signature is 65 bytes');
  return keccak_256(concat(enc.encode('datalicense/delivery-seed/v1'), signature));
}

/** The one-time delivery key number `index`: {p, x, y} (x, y: 32-byte coordinates). */
export function deliveryKey(seed, index) {
  if (seed.length !== 32) throw new Error('a delivery seed is 32 bytes');
  const tag = enc.encode('datalicense/delivery-key/v1');
  for (let counter = 0; counter < 256; counter++) {
    const digest = keccak_256(concat(tag, seed, uint256(index), Uint8Array.of(counter)));
    const p = toBig(digest);
    if (p > 0n && p < N) {
      const [x, y] = affine(secp256k1.Point.BASE.multiply(p));
      if (toBig(x) < N) return { p, x, y };
    }
  }
  throw new Error('no usable delivery key');
}

/** K = W xor keccak256(address(p*R) || uint256 licenceId). */
export function unwrapKey(rX, rY, wrapped, licenceId, p) {
  const R = secp256k1.Point.fromAffine({ x: toBig(rX), y: toBig(rY) });
  R.assertValidity();
  const [sx, sy] = affine(R.multiply(p));
  const mask = keccak_256(concat(pointAddress(sx, sy), uint256(licenceId)));
  return wrapped.map((b, i) => b ^ mask[i]);
}

/** The AGE-SECRET-KEY-1... identity whose X25519 secret is the content key K. */
export function ageIdentity(contentKey) {
  if (contentKey.length !== 32) throw new Error('a content key is 32 bytes');
  return bech32.encode('age-secret-key-', bech32.toWords(contentKey), false).toUpperCase();
}
