// Everything the page sends goes through the user's wallet (EIP-1193): legacy (type 0) transactions with the
// node's gas price (at least the block's minimumGasPrice on Rootstock), simulated first so a revert is shown as the
// CLI's one-line message and never sent. The page keeps no keys; the delivery seed lives in memory for the session.
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, concat, hexToBytes, uint256 } from './crypto.js';

const enc = new TextEncoder();
export const ZERO = '0x0000000000000000000000000000000000000000';

export class WalletError extends Error {}

// ---------------------------------------------------------------------------------------------- ABI encoding

function selector(signature) {
  return keccak_256(enc.encode(signature)).slice(0, 4);
}

function word(v) {
  if (v instanceof Uint8Array) {
    if (v.length > 32) throw new Error('value longer than a word');
    const out = new Uint8Array(32);
    out.set(v, 32 - v.length);
    return out;
  }
  if (typeof v === 'string' && v.startsWith('0x')) return word(hexToBytes(v));
  return uint256(v);
}

/** Calldata of a function whose arguments are all static (uint256, address, bytes32 and tuples of them). */
export function calldata(signature, ...words) {
  return '0x' + bytesToHex(concat(selector(signature), ...words.map(word)));
}

/** Calldata whose last argument is a bytes32[] (the head words first, then the array). */
function calldataWithArray(signature, words, array) {
  const offset = 32 * (words.length + 1);
  return calldata(signature, ...words, offset, array.length, ...array);
}

/** revokeConsentFor(address,uint256,bytes32[],bytes): two dynamic arguments after two static ones. */
function revokeConsentForData(account, weight, proof, signature) {
  const sig = hexToBytes(signature);
  const sigWords = [];
  for (let i = 0; i < sig.length; i += 32) {
    const w = new Uint8Array(32);
    w.set(sig.slice(i, i + 32));
    sigWords.push(w);
  }
  const first = 32 * 4;
  const second = first + 32 * (1 + proof.length);
  return '0x' + bytesToHex(concat(selector('revokeConsentFor(address,uint256,bytes32[],bytes)'),
    ...[account, weight, first, second, proof.length, ...proof, sig.length].map(word), ...sigWords));
}

export const topic = (signature) => '0x' + bytesToHex(keccak_256(enc.encode(signature)));
export const LICENCE_PURCHASED = topic(
  'LicencePurchased(uint256,uint256,address,address,uint256,uint256,uint256,bytes32,bytes32)');

export const calls = {
  buy: (datasetId, termsId, version, settingsId, licensee, x, y) =>
    calldata('buy((uint256,uint256,uint256,uint256,address,bytes32,bytes32))', datasetId, termsId, version,
      settingsId, licensee, x, y),
  buyWithToken: (datasetId, termsId, version, settingsId, licensee, x, y) =>
    calldata('buyWithToken((uint256,uint256,uint256,uint256,address,bytes32,bytes32))', datasetId, termsId, version,
      settingsId, licensee, x, y),
  approve: (spender, amount) => calldata('approve(address,uint256)', spender, amount),
  confirm: (licenceId) => calldata('confirm(uint256)', licenceId),
  disputeData: (licenceId) => calldata('disputeData(uint256)', licenceId),
  refund: (licenceId) => calldata('refund(uint256)', licenceId),
  disputeKey: (licenceId, p, rX, rY, wrapped, keyHash) =>
    calldata('disputeKey(uint256,uint256,(bytes32,bytes32,bytes32,bytes32))', licenceId, p, rX, rY, wrapped, keyHash),
  withdraw: (asset, to) => calldata('withdraw(address,address)', asset, to),
  claim: (epoch, asset, weight, proof) =>
    calldataWithArray('claim(uint256,address,uint256,bytes32[])', [epoch, asset, weight], proof),
  revokeConsentFor: revokeConsentForData,
  revokeConsent: (weight, proof) => calldataWithArray('revokeConsent(uint256,bytes32[])', [weight], proof),
};

// ---------------------------------------------------------------------------------------------------- wallet

const hex = (n) => '0x' + BigInt(n).toString(16);

export class Wallet {
  constructor(config, explain) {
    this.config = config;
    this.explain = explain; // async (revertData) => one-line message
    this.account = null;
    this.seed = null;
    this.onReady = null; // async () => ..., when ready() connected the account or switched the network (the header)
    this.shown = null;
  }

  get provider() {
    if (!window.ethereum) {
      throw new WalletError('no wallet found: install a Rootstock wallet (for example MetaMask) and reload the page');
    }
    return window.ethereum;
  }

  async request(method, params = []) {
    try {
      return await this.provider.request({ method, params });
    } catch (err) {
      throw await this.describe(err);
    }
  }

  async describe(err) {
    if (err instanceof WalletError) return err;
    if (err && err.code === 4001) return new WalletError('you declined the request in your wallet');
    const data = revertData(err);
    if (data) return new WalletError(await this.explain(data));
    const msg = (err && (err.message || String(err))) || 'the wallet failed';
    return new WalletError(msg.split('\n')[0].slice(0, 300));
  }

  async connect() {
    const accounts = await this.request('eth_requestAccounts');
    if (!accounts || !accounts.length) throw new WalletError('the wallet shared no account');
    this.account = accounts[0];
    return this.account;
  }

  async chainId() {
    return Number(BigInt(await this.request('eth_chainId')));
  }

  /** Switch the wallet to the marketplace's network, adding it first when the wallet does not know it. */
  async ensureChain() {
    if ((await this.chainId()) === this.config.chainId) return;
    const chainId = this.config.chainIdHex;
    try {
      await this.provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId }] });
    } catch (err) {
      if (err && (err.code === 4902 || err.code === -32603)) {
        const c = this.config.chain;
        await this.request('wallet_addEthereumChain', [{
          chainId, chainName: c.chainName, rpcUrls: c.rpcUrls, blockExplorerUrls: c.blockExplorerUrls.length ? c.blockExplorerUrls : undefined,
          nativeCurrency: { name: this.config.currency, symbol: this.config.currency, decimals: 18 },
        }]);
        await this.request('wallet_switchEthereumChain', [{ chainId }]);
      } else {
        throw await this.describe(err);
      }
    }
    if ((await this.chainId()) !== this.config.chainId) {
      throw new WalletError(`the wallet is not on ${this.config.chain.chainName} (chain id ${this.config.chainId})`);
    }
  }

  async ready() {
    if (!this.account) await this.connect();
    await this.ensureChain();
    const now = `${this.account}@${this.config.chainId}`;
    if (this.onReady && this.shown !== now) { // any action that connected (Buy, Fetch, ...) updates the header
      this.shown = now;
      await this.onReady();
    }
    return this.account;
  }

  /** The seed of this wallet's delivery keys on this marketplace (one signature per session). */
  async deliverySeed(derive) {
    if (!this.seed) {
      const msg = this.config.deliveryKeyMessage;
      const sig = await this.request('personal_sign', ['0x' + bytesToHex(enc.encode(msg)), this.account]);
      this.seed = derive(hexToBytes(sig));
    }
    return this.seed;
  }

  async gasPrice() {
    const price = BigInt(await this.request('eth_gasPrice'));
    const block = await this.request('eth_getBlockByNumber', ['latest', false]);
    const min = block && block.minimumGasPrice ? BigInt(block.minimumGasPrice) : 0n;
    return price > min ? price : min;
  }

  /** eth_call from the account: throws the one-line message of a revert. */
  async simulate(tx) {
    await this.request('eth_call', [{ from: this.account, ...tx }, 'latest']);
  }

  /** Simulate, then send a legacy transaction and wait for its receipt. */
  async send(tx, onStatus = () => {}) {
    const account = await this.ready();
    const full = { from: account, to: tx.to || this.config.contract, value: hex(tx.value || 0n), data: tx.data };
    onStatus('checking the transaction');
    await this.simulate(full);
    const gas = BigInt(await this.request('eth_estimateGas', [full]));
    const sent = { ...full, gas: hex((gas * 12n) / 10n + 10000n), gasPrice: hex(await this.gasPrice()), type: '0x0' };
    if (tx.nonce !== undefined) sent.nonce = hex(tx.nonce);
    onStatus('confirm the transaction in your wallet');
    const hash = await this.request('eth_sendTransaction', [sent]);
    onStatus(`waiting for transaction ${hash.slice(0, 10)}… to be mined`);
    for (let i = 0; i < 600; i++) {
      const receipt = await this.request('eth_getTransactionReceipt', [hash]);
      if (receipt) {
        if (BigInt(receipt.status) !== 1n) throw new WalletError(`transaction ${hash} failed on chain`);
        return receipt;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new WalletError(`transaction ${hash} was not mined in 5 minutes`);
  }
}

function revertData(err) {
  for (let e = err, i = 0; e && i < 5; e = e.data || e.cause || e.error, i++) {
    if (typeof e === 'string' && e.startsWith('0x')) return e;
    if (typeof e.data === 'string' && e.data.startsWith('0x')) return e.data;
    if (e.data && typeof e.data.result === 'string') return e.data.result;
    if (e.data && typeof e.data.data === 'string') return e.data.data;
  }
  return null;
}
