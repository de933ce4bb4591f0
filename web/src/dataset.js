// A dataset (#/dataset/ID): its terms, commitments, versions and sales, and buying a licence with the wallet.
import * as addresses from './addresses.js';
import { api, ctx, show } from './app.js';
import * as crypto from './crypto.js';
import * as deliveryRule from './delivery.js';
import { act, dl, duration, h, short, status, table, when } from './dom.js';
import { calls, LICENCE_PURCHASED, ZERO } from './wallet.js';

export async function datasetPage(id) {
  const { config } = ctx;
  const d = await api(`/api/datasets/${id}`);
  const m = d.manifest || {};
  const buyBtn = h('button', { type: 'button', id: 'buy', disabled: d.status !== 'on sale' || !!d.manifestError },
    `Buy a licence for ${d.priceText}`);
  const heldNote = h('p', { id: 'held-note', 'aria-live': 'polite' });
  buyBtn.addEventListener('click', () => act(buyBtn, () => buy(d, buyBtn, heldNote)));
  show(
    h('h1', {}, d.title || `Dataset ${d.id}`),
    // the server's words for a manifest it cannot use (erased, unreachable now, or what is wrong with it)
    d.manifestError ? h('p', { class: 'bad', role: 'alert', id: 'manifest-error' },
      `This dataset cannot be bought now: ${d.manifestError}.`) : h('p', {}, d.description || ''),
    h('section', { 'aria-labelledby': 'terms-h' }, h('h2', { id: 'terms-h' }, 'Terms'), dl([
      ['Price', d.priceText], ['Licence term', duration(d.duration)], ['Status', d.status],
      ['Sold', `${d.sold}${d.supplyCap ? ` of ${d.supplyCap}` : ''}`],
      ['Key delivery within', duration(d.deliveryWindow)], ['Dispute window', duration(d.disputeWindow)],
      ['Transferable', d.transferable ? 'yes' : 'no'], ['Licence text reference', h('code', {}, d.termsRef || 'none')],
      ['Owner', h('code', {}, addresses.display(d.owner, config.chainId))],
      ['Delivery agent', d.agent.toLowerCase() === ZERO ? 'none'
        : h('code', {}, addresses.display(d.agent, config.chainId))],
    ])),
    h('p', {}, buyBtn), heldNote,
    h('section', { 'aria-labelledby': 'commit-h' }, h('h2', { id: 'commit-h' }, 'Commitments (current version)'), dl([
      ['Version', String(d.version)], ['Plaintext SHA-256', h('code', {}, d.plaintextSha256)],
      ['Content key commitment', h('code', {}, d.keyHash)], ['Manifest', h('code', {}, d.manifestCid)],
      ['Media type', m.mediaType || '—'], ['Size', m.plaintext ? `${m.plaintext.size} bytes` : '—'],
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
  const { wallet } = ctx;
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
  const inToken = d.asset.toLowerCase() !== ZERO;
  if (inToken) { // a token price: the marketplace may take exactly the price, then buyWithToken takes it
    await wallet.send({ to: d.asset, data: calls.approve(ctx.config.contract, BigInt(d.price)) }, status);
  }
  // the delivery key is derived from the purchase's own nonce (after the approval, for a token)
  const nonce = BigInt(await wallet.request('eth_getTransactionCount', [account, 'pending']));
  const key = crypto.deliveryKey(seed, nonce);
  const data = (inToken ? calls.buyWithToken : calls.buy)(d.id, d.termsId, d.version, d.settingsId, ZERO, key.x, key.y);
  const receipt = await wallet.send({ data, value: inToken ? 0n : BigInt(d.price), nonce }, status);
  const tx = await wallet.request('eth_getTransactionByHash', [receipt.transactionHash]);
  if (BigInt(tx.nonce) !== nonce) {
    throw new Error(`the wallet sent the purchase with nonce ${BigInt(tx.nonce)}, not ${nonce}: rotate the licence's delivery key with the CLI`);
  }
  const log = receipt.logs.find((l) => l.topics[0] === LICENCE_PURCHASED);
  const licenceId = BigInt(log.topics[1]);
  status(`bought licence ${licenceId}`);
  location.hash = `#/licence/${licenceId}`;
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
