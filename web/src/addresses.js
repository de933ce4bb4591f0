// Addresses the page takes from people, parsed as datalicense/protocol/addresses.py does: all lower or all upper
// case as is; mixed case only with a checksum valid on the connected chain (EIP-55, or EIP-1191 of that chain; of
// Rootstock mainnet 30 or testnet 31 when no chain is given). tests/vectors/addresses.json runs against both.
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex } from './crypto.js';

const enc = new TextEncoder();
export const EIP1191_CHAINS = [30, 31];
const SHAPE = /^0x[0-9a-fA-F]{40}$/;

/** An address refused: `code` is "syntax" or "checksum" (the Python parser's codes). */
export class AddressError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function cased(body, digest) {
  return Array.from(body, (c, i) => (/[a-f]/.test(c) && parseInt(digest[i], 16) >= 8 ? c.toUpperCase() : c)).join('');
}

export function eip55(address) {
  const body = address.slice(2).toLowerCase();
  return '0x' + cased(body, bytesToHex(keccak_256(enc.encode(body))));
}

export function eip1191(address, chainId) {
  const body = address.slice(2).toLowerCase();
  return '0x' + cased(body, bytesToHex(keccak_256(enc.encode(`${chainId}0x${body}`))));
}

/** The network's own casing: EIP-1191 on Rootstock mainnet and testnet, EIP-55 elsewhere. */
export function display(address, chainId) {
  return EIP1191_CHAINS.includes(chainId) ? eip1191(address, chainId) : eip55(address);
}

/** The address `text` names, in EIP-55 casing; throws AddressError if it is none or its checksum does not match. */
export function parseAddress(text, chainId = null) {
  const a = String(text).trim();
  if (!SHAPE.test(a)) {
    throw new AddressError('syntax', `${JSON.stringify(String(text).slice(0, 64))} is not an address (0x followed by 40 hex characters)`);
  }
  const body = a.slice(2);
  if (body !== body.toLowerCase() && body !== body.toUpperCase()) {
    const chains = chainId === null || chainId === undefined ? EIP1191_CHAINS : [chainId];
    const ok = [eip55(a), ...chains.map((c) => eip1191(a, c))];
    if (!ok.includes(a)) {
      const on = chainId === null || chainId === undefined ? 'any network' : `chain ${chainId}`;
      throw new AddressError('checksum', `${a}: checksum does not match: mistyped? (its mixed case is no checksum valid on ${on}; check it, or give it in lower case if you are sure)`);
    }
  }
  return eip55(a);
}
