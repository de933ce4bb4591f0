// The DataLicense page: browse and search datasets, a dataset's terms, commitments, versions and sales; buy with
// the wallet; follow a licence, fetch and verify it in the page, confirm or prove a wrong key; an owner's sales,
// money flow and withdrawal; a pool contributor's earnings and consent. Routes: #/ #/dataset/ID #/licence/ID
// #/account #/pools. This module is the router and the wallet box; each page is a module of its own.
import 'uplot/dist/uPlot.min.css'; // before the page's own styles, as always
import './style.css';
import { accountPage } from './account.js';
import * as addresses from './addresses.js';
import * as amounts from './amounts.js';
import { api, ctx, explain, show } from './app.js';
import * as crypto from './crypto.js';
import { datasetPage } from './dataset.js';
import * as deliveryRule from './delivery.js';
import { act, h, short, showError } from './dom.js';
import { keyRecipient } from './fetch.js';
import { licencePage, stopPolling } from './licence.js';
import { listing } from './listing.js';
import { poolsPage } from './pools.js';
import { Wallet } from './wallet.js';

async function renderWalletBox() {
  const { wallet, config } = ctx;
  const box = document.getElementById('wallet');
  box.replaceChildren();
  if (wallet.account) {
    let onChain = false;
    try { onChain = (await wallet.chainId()) === config.chainId; } catch { /* shown as off-network */ }
    box.append(h('span', { id: 'account' }, `Account ${short(wallet.account)}`), ' ');
    if (!onChain) {
      box.append(h('button', { type: 'button', id: 'switch-network', onclick: (e) => act(e.target, async () => {
        await wallet.ensureChain(); await renderWalletBox();
      }) }, `Switch to ${config.chain.chainName}`));
    } else {
      box.append(h('span', { class: 'network' }, config.chain.chainName));
    }
  } else {
    box.append(h('button', { type: 'button', id: 'connect', onclick: (e) => act(e.target, async () => {
      await wallet.ready(); await renderWalletBox(); route();
    }) }, 'Connect wallet'));
  }
}

async function route() {
  stopPolling();
  const path = location.hash.replace(/^#/, '').split('?')[0] || '/';
  const parts = path.split('/').filter(Boolean);
  try {
    if (!parts.length) await listing();
    else if (parts[0] === 'dataset' && /^\d+$/.test(parts[1])) await datasetPage(parts[1]);
    else if (parts[0] === 'licence' && /^\d+$/.test(parts[1])) await licencePage(parts[1]);
    else if (parts[0] === 'account') await accountPage();
    else if (parts[0] === 'pools') await poolsPage();
    else show(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'All datasets')));
    document.body.dataset.page = parts[0] || 'listing';
  } catch (err) {
    showError(err);
  }
}

async function main() {
  ctx.config = await api('/api/config');
  ctx.wallet = new Wallet(ctx.config, explain);
  ctx.route = route;
  ctx.renderWalletBox = renderWalletBox;
  ctx.wallet.onReady = renderWalletBox;
  const { wallet } = ctx;
  if (window.ethereum) {
    try {
      const accounts = await window.ethereum.request({ method: 'eth_accounts' });
      if (accounts && accounts.length) wallet.account = accounts[0];
    } catch { /* not connected yet */ }
    if (window.ethereum.on) window.ethereum.on('accountsChanged', (a) => { wallet.account = a[0] || null; wallet.seed = null; renderWalletBox(); route(); });
  }
  await renderWalletBox();
  window.addEventListener('hashchange', () => { showError(null); route(); });
  await route();
  document.body.dataset.ready = '1';
}

// The rules the page shares with the Python package, exposed so the shared vectors (tests/vectors/) run in the
// browser: the buyer-side derivation, the address parser, the rule for verifying a delivery, the amounts rule.
window.datalicenseCrypto = crypto;
window.datalicenseAddresses = addresses;
window.datalicenseDelivery = { ...deliveryRule, keyRecipient };
window.datalicenseAmounts = amounts;
main().catch(showError);
