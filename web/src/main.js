// The DataLicense page: browse and search datasets, a dataset's terms, commitments, versions and sales; buy with
// the wallet; follow a licence, fetch and verify it in the page, confirm or prove a wrong key; an owner's sales,
// money flow and withdrawal. Routes: #/ #/dataset/ID #/licence/ID #/account
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import * as addresses from './addresses.js';
import * as crypto from './crypto.js';
import * as deliveryRule from './delivery.js';
import { chooseDelivery, escrowedOpening, fetchVerified, keyRecipient } from './fetch.js';
import { calls, LICENCE_PURCHASED, Wallet, ZERO } from './wallet.js';

const app = document.getElementById('app');
const statusEl = document.getElementById('status');
const errorEl = document.getElementById('error');
let config = null;
let wallet = null;
let poll = null;

// ------------------------------------------------------------------------------------------------- helpers

async function api(path, init) {
  const resp = await fetch(path, init);
  const body = await resp.json().catch(() => ({ error: `the server answered ${resp.status}` }));
  if (!resp.ok) throw new Error(body.error || `the server answered ${resp.status}`);
  return body;
}

async function explain(data) {
  return (await api('/api/explain', { method: 'POST', body: JSON.stringify({ data }) })).message;
}

/** Build an element: h('a', {href: '#/'}, 'text', child...). Text is always set as text, never as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

function status(text) { statusEl.textContent = text || ''; }
function showError(err) {
  errorEl.textContent = err ? (err.message || String(err)).split('\n')[0] : '';
  errorEl.hidden = !err;
  if (err) status('');
}

function amount(wei) {
  const v = BigInt(wei);
  const whole = v / 10n ** 18n;
  const frac = (v % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '');
  return `${whole}${frac ? '.' + frac : ''} ${config.currency}`;
}

const short = (a) => (a ? `${a.slice(0, 6)}…${a.slice(-4)}` : '');
const duration = (s) => (s === 0 ? "perpetual" : s % 86400 === 0 ? `${s / 86400} day${s === 86400 ? "" : "s"}` : `${(s / 3600).toFixed(1)} hours`);
const when = (t) => new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

function table(caption, head, rows) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))
      : h('tr', {}, h('td', { colspan: head.length }, 'none yet'))));
}

function dl(pairs) {
  return h('dl', {}, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

async function act(button, fn) {
  showError(null);
  button.disabled = true;
  try {
    await fn();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------------------------------------- header

async function renderWalletBox() {
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

// ------------------------------------------------------------------------------------------------- listing

async function listing() {
  const q = new URLSearchParams(location.hash.split('?')[1] || '').get('q') || '';
  const input = h('input', { id: 'search', type: 'search', value: q, placeholder: 'title, description, owner or id' });
  const form = h('form', { role: 'search', onsubmit: (e) => {
    e.preventDefault();
    location.hash = `#/?q=${encodeURIComponent(input.value)}`;
  } }, h('label', { for: 'search' }, 'Search datasets '), input, ' ', h('button', { type: 'submit' }, 'Search'));
  const { datasets } = await api(`/api/datasets?q=${encodeURIComponent(q)}`);
  const rows = datasets.map((d) => [
    h('a', { href: `#/dataset/${d.id}` }, d.title || `Dataset ${d.id}`),
    d.manifestError ? h('span', { class: 'bad', role: 'note' }, `manifest problem: ${d.manifestError}`) : d.description,
    d.priceText, d.status, String(d.sold), short(d.owner),
  ]);
  app.replaceChildren(h('h1', {}, 'Datasets'), form,
    table(`${datasets.length} dataset${datasets.length === 1 ? '' : 's'}${q ? ` matching “${q}”` : ''}`,
      ['Title', 'Description', 'Price', 'Status', 'Sold', 'Owner'], rows));
}

// ------------------------------------------------------------------------------------------------- dataset

async function datasetPage(id) {
  const d = await api(`/api/datasets/${id}`);
  const m = d.manifest || {};
  const buyBtn = h('button', { type: 'button', id: 'buy', disabled: d.status !== 'on sale' || !!d.manifestError },
    `Buy a licence for ${d.priceText}`);
  const heldNote = h('p', { id: 'held-note', 'aria-live': 'polite' });
  buyBtn.addEventListener('click', () => act(buyBtn, () => buy(d, buyBtn, heldNote)));
  app.replaceChildren(
    h('h1', {}, d.title || `Dataset ${d.id}`),
    d.manifestError ? h('p', { class: 'bad', role: 'alert', id: 'manifest-error' },
      `This dataset's manifest cannot be used: ${d.manifestError}`) : h('p', {}, d.description || ''),
    h('section', { 'aria-labelledby': 'terms-h' }, h('h2', { id: 'terms-h' }, 'Terms'), dl([
      ['Price', d.priceText], ['Licence term', duration(d.duration)], ['Status', d.status],
      ['Sold', `${d.sold}${d.supplyCap ? ` of ${d.supplyCap}` : ''}`],
      ['Key delivery within', duration(d.deliveryWindow)], ['Dispute window', duration(d.disputeWindow)],
      ['Transferable', d.transferable ? 'yes' : 'no'], ['Licence text reference', h('code', {}, d.termsRef || 'none')],
      ['Owner', h('code', {}, addresses.display(d.owner, config.chainId))],
      ['Delivery agent', h('code', {}, addresses.display(d.agent, config.chainId))],
    ])),
    h('p', {}, buyBtn), heldNote,
    h('section', { 'aria-labelledby': 'commit-h' }, h('h2', { id: 'commit-h' }, 'Commitments (current version)'), dl([
      ['Version', String(d.version)], ['Plaintext SHA-256', h('code', {}, d.plaintextSha256)],
      ['Content key commitment', h('code', {}, d.keyHash)], ['Manifest', h('code', {}, d.manifestCid)],
      ['Media type', m.mediaType || ''], ['Size', m.plaintext ? `${m.plaintext.size} bytes` : ''],
    ])),
    reusedNote(d.id, d.versions.map((v) => ({ ...v, datasetId: d.id }))),
    table('Versions', ['Version', 'Manifest', 'Plaintext SHA-256', 'Block'],
      d.versions.map((v) => [String(v.version), h('code', {}, v.manifestCid), h('code', {}, v.plaintextHash), String(v.block)])),
    table('Sales', ['Licence', 'Licensee', 'Price', 'Version', 'State', 'When'],
      d.sales.map((s) => [h('a', { href: `#/licence/${s.licenceId}` }, `#${s.licenceId}`), short(s.licensee),
        s.priceText, String(s.version), s.state, when(s.time)])),
  );
}

async function buy(d, button, note) {
  const account = await wallet.ready();
  if (button.dataset.again !== '1') { // the buyer role's rule: a dataset already held is bought again only on purpose
    const { licenceId, state } = await api(`/api/datasets/${d.id}/held/${account}`);
    if (licenceId !== null) {
      button.dataset.again = '1';
      button.textContent = `Buy another licence anyway (${d.priceText})`;
      note.replaceChildren(h('span', { id: 'held', role: 'alert' }, `You already hold licence #${licenceId} (${state}) for this dataset: `,
        h('a', { href: `#/licence/${licenceId}` }, 'open it'), '. Click the button again to buy another.'));
      return;
    }
  }
  status('sign the delivery-key message in your wallet (once per session)');
  const seed = await wallet.deliverySeed(crypto.deliverySeed);
  const nonce = BigInt(await wallet.request('eth_getTransactionCount', [account, 'pending']));
  const key = crypto.deliveryKey(seed, nonce);
  const data = calls.buy(d.id, d.termsId, d.version, d.settingsId, ZERO, key.x, key.y);
  const receipt = await wallet.send({ data, value: BigInt(d.price), nonce }, status);
  const tx = await wallet.request('eth_getTransactionByHash', [receipt.transactionHash]);
  if (BigInt(tx.nonce) !== nonce) {
    throw new Error(`the wallet sent the purchase with nonce ${BigInt(tx.nonce)}, not ${nonce}: rotate the licence's delivery key with the CLI`);
  }
  const log = receipt.logs.find((l) => l.topics[0] === LICENCE_PURCHASED);
  const licenceId = BigInt(log.topics[1]);
  status(`bought licence ${licenceId}`);
  location.hash = `#/licence/${licenceId}`;
}

// ------------------------------------------------------------------------------------------------- licence

async function licencePage(id) {
  const lic = await api(`/api/licences/${id}`);
  const escrowed = lic.deliveries.find((x) => x.escrowed);
  const stateLine = {
    Pending: `waiting for the seller's agent to deliver the key (refund possible after ${when(lic.deadline)})`,
    Delivered: `key delivered: in escrow until ${when(lic.deadline)}; fetch and verify, then confirm`,
    Settled: 'settled: the seller has been paid; the licence gives access to the data',
    Refunded: 'refunded', DataDisputed: `data dispute open: the arbiter decides by ${when(lic.deadline)}, after that the sale stands by default`,
    Resolved: 'resolved by the arbiter',
  }[lic.state] || lic.state;
  const out = h('div', { id: 'fetch-result', 'aria-live': 'polite' });
  const buttons = [];
  const mine = wallet.account && lic.holder.toLowerCase() === wallet.account.toLowerCase();
  if (escrowed && ['Delivered', 'Settled'].includes(lic.state)) {
    const fetchBtn = h('button', { type: 'button', id: 'fetch' }, 'Fetch and verify the data');
    fetchBtn.addEventListener('click', () => act(fetchBtn, () => fetchData(lic, out)));
    buttons.push(fetchBtn);
  }
  // what the licence clock allows now (datalicense/protocol/lifecycle.py, through the API): no button for a
  // transaction the contract would refuse at this time
  const can = (action) => (lic.actions || []).includes(action);
  if (lic.state === 'Delivered' && mine && can('disputeKey')) {
    const dataBtn = h('button', { type: 'button', id: 'dispute-data', disabled: !can('disputeData') },
      `The data is not as described (data dispute, bond ${lic.disputeBondText})`);
    dataBtn.addEventListener('click', () => act(dataBtn, async () => {
      await wallet.send({ data: calls.disputeData(lic.licence_id), value: BigInt(lic.disputeBond) }, status);
      status(`data dispute opened for licence ${lic.licence_id}: the arbiter decides`);
      route();
    }));
    buttons.push(dataBtn);
    const disputeBtn = h('button', { type: 'button', id: 'dispute' }, 'Prove the key is wrong (key dispute)');
    disputeBtn.addEventListener('click', () => act(disputeBtn, () => disputeKey(lic)));
    buttons.push(disputeBtn);
  }
  app.replaceChildren(
    h('h1', {}, `Licence ${lic.licence_id}`),
    h('p', { id: 'licence-state', role: 'status' }, h('strong', {}, lic.state), ': ', stateLine),
    dl([['Dataset', h('a', { href: `#/dataset/${lic.dataset_id}` }, `Dataset ${lic.dataset_id}`)],
      ['Version bought', String(lic.version)], ['Holder', h('code', {}, lic.holder)], ['Price', lic.price_text],
      ['Valid', lic.valid ? 'yes' : 'no'], ['Expires', lic.expires_at ? when(lic.expires_at) : lic.state === 'Settled' ? 'never' : '—']]),
    sharedKeyNote(lic),
    h('p', { class: 'actions' }, buttons), out,
    table('Key deliveries', ['Kind', 'Version', 'Key commitment', 'Block'], lic.deliveries.map((x) => [
      x.escrowed ? 'escrowed' : 'newer version', String(x.version ?? '?'), h('code', {}, x.keyHash), String(x.block)])),
  );
  if (lic.state === 'Pending') poll = setTimeout(() => route(), 1500);
}

/** Versions of a dataset that share a key commitment (the same key opens them), by the shared delivery rule. */
function reusedNote(datasetId, versions) {
  const reused = deliveryRule.reusedCommitments(datasetId, versions);
  const groups = [...new Set(Object.entries(reused).map(([n, others]) => [Number(n), ...others].sort((a, b) => a - b).join(',')))];
  if (!groups.length) return null;
  return h('p', { class: 'bad', role: 'note', id: 'reused-versions' }, groups.map((g) => {
    const ns = g.split(',');
    return `versions ${ns.slice(0, -1).join(', ')} and ${ns[ns.length - 1]} share one key commitment (the same content key opens them). `;
  }).join(''), 'A licence is always checked against the version it bought.');
}

/** The licence's version shares its key commitment with other versions of its dataset. */
function sharedKeyNote(lic) {
  const others = deliveryRule.reusedCommitments(lic.dataset_id, lic.versions)[String(lic.version)];
  if (!others) return null;
  return h('p', { class: 'bad', role: 'note', id: 'reused-commitment' },
    `Caution: version ${lic.version} shares its key commitment with version ${others.join(', ')} (the seller reused a content key): ` +
    `what the page fetches is checked against version ${lic.version}'s own hash.`);
}

async function fetchData(lic, out) {
  await wallet.ready();
  status('sign the delivery-key message in your wallet (once per session)');
  const seed = await wallet.deliverySeed(crypto.deliverySeed);
  const opened = chooseDelivery(lic, seed);
  if (!opened.right) {
    out.replaceChildren(h('p', { class: 'bad', role: 'alert', id: 'wrong-key' },
      'The delivered key does not open its commitment. Prove it with a key dispute: you are refunded at once.'));
    status('');
    return;
  }
  status('downloading and decrypting');
  const progress = h('progress', { max: '1', value: '0', 'aria-label': 'download and decryption' });
  out.replaceChildren(progress);
  const res = await fetchVerified(config.gatewayUrl, opened, (n, total) => { progress.value = total ? n / total : 1; });
  const v = opened.version;
  const ext = (v.manifest.mediaType || '').split('/')[1] || 'bin';
  const name = `dataset-${lic.dataset_id}-v${v.version}.${ext.replace(/[^a-z0-9]/gi, '')}`;
  const link = h('a', { href: URL.createObjectURL(res.blob), download: name, id: 'download' }, `Save ${name}`);
  const parts = [h('p', { id: 'verified' }, `Verified: version ${v.version}, ${res.size} bytes, SHA-256 ${res.sha256} matches the on-chain commitment. `, link)];
  const mine = lic.holder.toLowerCase() === wallet.account.toLowerCase();
  if (opened.confirm && mine) {
    const confirmBtn = h('button', { type: 'button', id: 'confirm' }, 'Confirm: the data is as described (pays the seller)');
    confirmBtn.addEventListener('click', () => act(confirmBtn, async () => {
      await wallet.send({ data: calls.confirm(lic.licence_id) }, status);
      status(`licence ${lic.licence_id} confirmed`);
      route();
    }));
    parts.push(h('p', {}, confirmBtn));
  }
  out.replaceChildren(...parts);
  status('verified');
}

async function disputeKey(lic) {
  await wallet.ready();
  const seed = await wallet.deliverySeed(crypto.deliverySeed);
  const opened = escrowedOpening(lic, seed);
  const d = opened.delivery;
  if (opened.right) {
    throw new Error(`the key delivered for licence ${lic.licence_id} is right: a key dispute would settle the sale to the seller, so it was not sent`);
  }
  const data = calls.disputeKey(lic.licence_id, opened.p, d.rX, d.rY, d.wrappedKey, d.keyHash);
  status('simulating the key dispute');
  await wallet.simulate({ to: config.contract, data }); // a dispute that would revert is never sent
  await wallet.send({ data }, status);
  status(`key dispute sent: licence ${lic.licence_id} refunded`);
  route();
}

// ------------------------------------------------------------------------------------------------- account

// A dataset's money flow, as the API computes it for the CLI's `sales` too (datalicense/protocol/flow.py): paid in =
// to the owner + fees + refunded + to the buyer by ruling + in escrow, in the asset's own units.
const FLOW_PARTS = [['owner', 'to the owner', '#16a34a'], ['fee', 'platform fee', '#9333ea'],
  ['refunded', 'refunded', '#dc2626'], ['toBuyer', 'to the buyer by ruling', '#0891b2'], ['escrow', 'in escrow', '#f59e0b']];

function flowChart(f) {
  const el = h('div', { class: 'chart', role: 'img', 'aria-label': `money flow over time in ${f.symbol}: paid by buyers, ${FLOW_PARTS.map((p) => p[1]).join(', ')}` });
  const series = f.series;
  if (!series.length) return el;
  const xs = series.map((p) => p.time);
  const ys = (k) => series.map((p) => Number(BigInt(p[k])) / 10 ** f.decimals);
  const opts = {
    width: 560, height: 220, scales: { x: { time: true } },
    series: [{}, { label: 'paid by buyers', stroke: '#2563eb' }, ...FLOW_PARTS.map(([, label, stroke]) => ({ label, stroke }))],
  };
  requestAnimationFrame(() => new uPlot(opts, [xs, ys('paid'), ...FLOW_PARTS.map(([k]) => ys(k))], el));
  return el;
}

function flowBar(f) {
  const total = BigInt(f.paid);
  const part = (k, label, cls) => {
    const v = BigInt(f[k]);
    const pct = total ? Number((v * 10000n) / total) / 100 : 0;
    return h('div', { class: `seg ${cls}`, style: `width:${pct}%`, title: `${label}: ${f.text[k]}` });
  };
  return h('div', { class: 'flow' },
    h('p', {}, `Buyers paid ${f.text.paid} → ` + FLOW_PARTS.map(([k, label]) => `${label} ${f.text[k]}`).join(', ')),
    h('div', { class: 'bar', 'aria-hidden': 'true' }, FLOW_PARTS.map(([k, label]) => part(k, label, k))));
}

async function accountPage() {
  if (!wallet.account) {
    const b = h('button', { type: 'button', onclick: (e) => act(e.target, async () => { await wallet.ready(); renderWalletBox(); route(); }) },
      'Connect wallet');
    app.replaceChildren(h('h1', {}, 'My account'), h('p', {}, 'Connect your wallet to see your licences and datasets. '), b);
    return;
  }
  const a = await api(`/api/accounts/${wallet.account}`);
  const withdrawBtn = h('button', { type: 'button', id: 'withdraw', disabled: BigInt(a.owed) === 0n }, `Withdraw ${a.owedText}`);
  withdrawBtn.addEventListener('click', () => act(withdrawBtn, async () => {
    await wallet.send({ data: calls.withdraw(ZERO, wallet.account) }, status);
    status('withdrawn');
    route();
  }));
  app.replaceChildren(
    h('h1', {}, 'My account'),
    h('section', { 'aria-labelledby': 'owed-h' }, h('h2', { id: 'owed-h' }, 'Owed to you'),
      h('p', { id: 'owed' }, a.owedText, ' '), withdrawBtn),
    table('Licences you hold', ['Licence', 'Dataset', 'Price', 'State', 'When'], a.licences.map((l) => [
      h('a', { href: `#/licence/${l.licenceId}` }, `#${l.licenceId}`), h('a', { href: `#/dataset/${l.datasetId}` }, `Dataset ${l.datasetId}`),
      l.priceText, l.state, when(l.time)])),
    h('h2', {}, 'Your datasets'),
    a.datasets.length ? '' : h('p', {}, 'You own no datasets. Publish with the command line: ',
      h('code', {}, 'datalicense --account KEY publish FILE --title "My data" --price 0.002'),
      ' (large files stream from disk; the page never uploads your data).'),
    ...a.datasets.map((d) => h('section', { class: 'owned', 'aria-label': `dataset ${d.id}` },
      h('h3', {}, h('a', { href: `#/dataset/${d.id}` }, d.title || `Dataset ${d.id}`)),
      h('p', {}, `${d.sold} sold at ${d.priceText}; pending delivery: ${d.pendingDelivery.length ? d.pendingDelivery.map((x) => '#' + x).join(', ') : 'none'}`),
      (d.flows || [d.flow]).flatMap((f) => [flowBar(f), flowChart(f)]),
      table('Sales', ['Licence', 'Licensee', 'Price', 'State', 'When'], d.sales.map((s) => [
        `#${s.licenceId}`, short(s.licensee), s.priceText, s.state, when(s.time)])))),
  );
}

// ------------------------------------------------------------------------------------------------- pools

async function poolsPage() {
  if (!wallet.account) {
    const b = h('button', { type: 'button', onclick: (e) => act(e.target, async () => { await wallet.ready(); renderWalletBox(); route(); }) },
      'Connect wallet');
    app.replaceChildren(h('h1', {}, 'My pools'), h('p', {}, 'Connect your wallet to see the pools your records are in. '), b);
    return;
  }
  const c = await api(`/api/contributors/${wallet.account}`);
  const sections = c.pools.map((p) => {
    if (p.error) return h('section', { class: 'pool' }, h('h2', {}, `Pool ${short(p.address)}`), h('p', { class: 'bad' }, p.error));
    const rows = p.rows.map((r) => {
      const claimBtn = h('button', { type: 'button', class: 'claim', disabled: BigInt(r.claimable) === 0n,
        'aria-label': `claim ${amount(r.claimable)} of epoch ${r.epoch}` }, `Claim ${amount(r.claimable)}`);
      claimBtn.addEventListener('click', () => act(claimBtn, async () => {
        await wallet.send({ to: p.address, data: calls.claim(r.epoch, r.asset, r.weight, r.proof) }, status);
        status(`claimed epoch ${r.epoch}`);
        route();
      }));
      const cells = [String(r.epoch), `${r.weight} of ${r.totalWeight}`, amount(r.claimed), claimBtn,
        r.revoked ? 'consent revoked' : 'consent given'];
      if (r.epoch === p.epoch && !r.revoked && r.asset === p.rows[0].asset) {
        const revokeBtn = h('button', { type: 'button', class: 'revoke' }, 'Revoke consent');
        revokeBtn.addEventListener('click', () => act(revokeBtn, async () => {
          await wallet.send({ to: p.address, data: calls.revokeConsent(r.weight, r.proof) }, status);
          status('consent revoked: the next version of the dataset must leave your records out');
          route();
        }));
        const signBtn = h('button', { type: 'button', class: 'sign-revocation' }, 'Sign a revocation (no gas)');
        signBtn.addEventListener('click', () => act(signBtn, async () => {
          await wallet.ready();
          const signature = await wallet.request('personal_sign', [p.revocationDigest, wallet.account]);
          const text = JSON.stringify({ pool: p.address, account: wallet.account, weight: r.weight, proof: r.proof, signature });
          signBtn.replaceWith(h('label', {}, 'Signed revocation: give it to anyone (the curator) to send ',
            h('textarea', { readonly: true, rows: 3, cols: 60, class: 'signed-revocation' }, text)));
          status('revocation signed: anyone can send it with "Send a signed revocation"');
        }));
        cells[4] = h('span', {}, 'consent given ', revokeBtn, ' ', signBtn);
      }
      return cells;
    });
    return h('section', { class: 'pool', 'aria-label': `pool ${p.address}` },
      h('h2', {}, p.title ? `${p.title} (pool ${short(p.address)})` : `Pool ${short(p.address)}`),
      h('p', {}, p.datasetId ? h('a', { href: `#/dataset/${p.datasetId}` }, `Dataset ${p.datasetId}`) : 'no dataset yet',
        `, current epoch ${p.epoch}`),
      table('What you earned, by epoch', ['Epoch', 'Your weight', 'Claimed', 'Claimable', 'Consent'], rows),
      table('Transparency: every licence sold of the data that includes your records',
        ['Licence', 'When', 'To', 'Price', 'State', 'To the pool', 'Your share'],
        p.sales.map((s) => [`#${s.licenceId}`, when(s.time), h('code', {}, s.licensee), s.priceText, s.state,
          amount(s.toPool), amount(s.yourShare)])));
  });
  const input = h('textarea', { id: 'revocation-input', rows: 3, cols: 60 });
  const sendBtn = h('button', { type: 'button', id: 'send-revocation' }, 'Send');
  sendBtn.addEventListener('click', () => act(sendBtn, async () => {
    let r;
    try { r = JSON.parse(input.value); } catch { throw new Error('that is not a signed revocation (JSON from "Sign a revocation")'); }
    // the pool and the account are parsed as every address the page takes: a mistyped checksum is refused
    const pool = addresses.parseAddress(r.pool, config.chainId), account = addresses.parseAddress(r.account, config.chainId);
    await wallet.send({ to: pool, data: calls.revokeConsentFor(account, r.weight, r.proof, r.signature) }, status);
    status(`consent of ${addresses.display(account, config.chainId)} revoked`);
    route();
  }));
  app.replaceChildren(h('h1', {}, 'My pools'),
    sections.length ? h('div', { id: 'pools' }, sections) : h('p', { id: 'pools' }, 'Your account is in no pool.'),
    (c.skipped || []).length ? h('p', { id: 'pools-skipped', class: 'note' },
      `${c.skipped.length} pool(s) could not be read and are not shown: `,
      c.skipped.map((s) => `${short(s.address)} (${s.reason})`).join('; ')) : '',
    h('section', { 'aria-labelledby': 'relay-h' }, h('h2', { id: 'relay-h' }, 'Send a signed revocation'),
      h('p', {}, h('label', { for: 'revocation-input' }, "A contributor's signed revocation (you pay the gas)")),
      input, ' ', sendBtn));
}

// ------------------------------------------------------------------------------------------------- router

async function route() {
  clearTimeout(poll);
  const path = location.hash.replace(/^#/, '').split('?')[0] || '/';
  const parts = path.split('/').filter(Boolean);
  try {
    if (!parts.length) await listing();
    else if (parts[0] === 'dataset' && /^\d+$/.test(parts[1])) await datasetPage(parts[1]);
    else if (parts[0] === 'licence' && /^\d+$/.test(parts[1])) await licencePage(parts[1]);
    else if (parts[0] === 'account') await accountPage();
    else if (parts[0] === 'pools') await poolsPage();
    else app.replaceChildren(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'All datasets')));
    document.body.dataset.page = parts[0] || 'listing';
  } catch (err) {
    showError(err);
  }
}

async function main() {
  config = await api('/api/config');
  wallet = new Wallet(config, explain);
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

// The buyer-side derivation, exposed so the shared vectors can be checked in the browser.
window.datalicenseCrypto = crypto;
// The address parser, exposed so the shared address vectors can be run in the browser.
window.datalicenseAddresses = addresses;
// The rule for verifying a delivery, exposed so the shared delivery vectors can be run in the browser.
window.datalicenseDelivery = { ...deliveryRule, keyRecipient };
main().catch(showError);
