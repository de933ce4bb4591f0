// A licence (#/licence/ID): its state and what the licence clock allows now, fetching and verifying the data in the
// page, confirming, and proving a wrong key or opening a data dispute.
import { api, ctx, show } from './app.js';
import * as crypto from './crypto.js';
import * as deliveryRule from './delivery.js';
import { act, dl, h, status, table, when } from './dom.js';
import { chooseDelivery, escrowedOpening, fetchVerified } from './fetch.js';
import { calls } from './wallet.js';

let poll = null;

/** Stop re-reading a pending licence (the router calls it before each page). */
export function stopPolling() { clearTimeout(poll); }

export async function licencePage(id) {
  const lic = await api(`/api/licences/${id}`);
  // what the licence clock allows now (datalicense/protocol/lifecycle.py, through the API): no button for a
  // transaction the contract would refuse at this time
  const can = (action) => (lic.actions || []).includes(action);
  const out = h('div', { id: 'fetch-result', 'aria-live': 'polite' });
  const actions = h('p', { class: 'actions' });
  // the buttons depend on who the wallet is: drawn again once an action (Fetch and verify) connected it
  const drawActions = () => actions.replaceChildren(...actionButtons(lic, can, out, drawActions));
  drawActions();
  show(
    h('h1', {}, `Licence ${lic.licenceId}`),
    h('p', { id: 'licence-state', role: 'status' }, h('strong', {}, lic.state), ': ', stateLine(lic, can)),
    dl([['Dataset', h('a', { href: `#/dataset/${lic.datasetId}` }, lic.datasetTitle || `Dataset ${lic.datasetId}`)],
      ['Version bought', String(lic.version)], ['Holder', h('code', {}, lic.holder)], ['Price', lic.priceText],
      ['Valid', lic.valid ? 'yes' : 'no'], ['Expires', lic.expiresAt ? when(lic.expiresAt) : lic.state === 'Settled' ? 'never' : '—']]),
    sharedKeyNote(lic),
    actions, out,
    table('Key deliveries', ['Kind', 'Version', 'Key commitment', 'Block'], lic.deliveries.map((x) => [
      x.escrowed ? 'escrowed' : 'newer version', String(x.version ?? '?'), h('code', {}, x.keyHash), String(x.block)])),
  );
  if (can('deliverKey')) poll = setTimeout(() => ctx.route(), 1500); // the agent may deliver any moment now
}

/** What the state means now, after the state's name (never the name again). */
function stateLine(lic, can) {
  switch (lic.state) {
    case 'Pending': return can('refund')
      ? `the key was not delivered by ${when(lic.deadline)}: the price can be refunded to the holder`
      : `waiting for the seller's agent to deliver the key (a refund is possible from ${when(lic.nextAt)})`;
    case 'Delivered': return `key delivered: in escrow until ${when(lic.deadline)}; fetch and verify, then confirm`;
    case 'Settled': return 'the seller has been paid; the licence gives access to the data';
    case 'Refunded': return BigInt(lic.holderOwed) > 0n
      ? `the price (${lic.priceText}) went back to the holder: Withdraw pays it out (owed to the holder now: ${lic.holderOwedText})`
      : `the price (${lic.priceText}) went back to the holder, and nothing is owed to the holder now (withdrawn)`;
    case 'DataDisputed': return `the arbiter decides by ${when(lic.deadline)}, after that the sale stands by default`;
    case 'Resolved': return 'the arbiter ruled on the data dispute';
    default: return '';
  }
}

function actionButtons(lic, can, out, drawActions) {
  const { wallet } = ctx;
  const buttons = [];
  const mine = wallet.account && lic.holder.toLowerCase() === wallet.account.toLowerCase();
  const button = (id, text, onClick, disabled = false) => {
    const b = h('button', { type: 'button', id, disabled }, text);
    b.addEventListener('click', () => act(b, () => onClick(b)));
    buttons.push(b);
  };
  const sendAndShow = async (data, done) => {
    await wallet.send({ data }, status);
    status(done);
    ctx.route();
  };
  if (lic.deliveries.some((x) => x.escrowed) && ['Delivered', 'Settled'].includes(lic.state)) {
    button('fetch', 'Fetch and verify the data', () => fetchData(lic, out, drawActions));
  }
  if (lic.state === 'Delivered' && mine && can('disputeKey')) {
    button('dispute-data', `The data is not as described (data dispute, bond ${lic.disputeBondText})`, async () => {
      await wallet.send({ data: calls.disputeData(lic.licenceId), value: BigInt(lic.disputeBond) }, status);
      status(`data dispute opened for licence ${lic.licenceId}: the arbiter decides`);
      ctx.route();
    }, !can('disputeData'));
    button('dispute', 'Prove the key is wrong (key dispute)', () => disputeKey(lic));
  }
  if (can('refund')) { // anyone may send it; the price goes back to the holder
    button('refund', `Refund ${lic.priceText} to the holder (the key was not delivered in time)`, () => sendAndShow(
      calls.refund(lic.licenceId), `licence ${lic.licenceId} refunded: Withdraw pays it out`));
  }
  if (lic.state === 'Refunded' && mine && BigInt(lic.holderOwed) > 0n) {
    button('withdraw', `Withdraw ${lic.holderOwedText}`, () => sendAndShow(
      calls.withdraw(lic.asset, wallet.account), 'withdrawn'));
  }
  return buttons;
}

/** The licence's version shares its key commitment with other versions of its dataset. */
function sharedKeyNote(lic) {
  const others = deliveryRule.reusedCommitments(lic.datasetId, lic.versions)[String(lic.version)];
  if (!others) return null;
  return h('p', { class: 'bad', role: 'note', id: 'reused-commitment' },
    `Caution: version ${lic.version} shares its key commitment with version ${others.join(', ')} (the seller reused a content key): ` +
    `what the page fetches is checked against version ${lic.version}'s own hash.`);
}

async function fetchData(lic, out, drawActions) {
  const { wallet, config } = ctx;
  await wallet.ready();
  drawActions(); // the wallet may have just connected: the holder's buttons (the disputes) now show
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
  const name = `dataset-${lic.datasetId}-v${v.version}.${ext.replace(/[^a-z0-9]/gi, '')}`;
  const link = h('a', { href: URL.createObjectURL(res.blob), download: name, id: 'download' }, `Save ${name}`);
  const parts = [h('p', { id: 'verified' }, `Verified: version ${v.version}, ${res.size} bytes, SHA-256 ${res.sha256} matches the on-chain commitment. `, link)];
  const mine = lic.holder.toLowerCase() === wallet.account.toLowerCase();
  if (opened.confirm && mine) {
    const confirmBtn = h('button', { type: 'button', id: 'confirm' }, 'Confirm: the data is as described (pays the seller)');
    confirmBtn.addEventListener('click', () => act(confirmBtn, async () => {
      await wallet.send({ data: calls.confirm(lic.licenceId) }, status);
      status(`licence ${lic.licenceId} confirmed`);
      ctx.route();
    }));
    parts.push(h('p', {}, confirmBtn));
  }
  out.replaceChildren(...parts);
  status('verified');
}

async function disputeKey(lic) {
  const { wallet, config } = ctx;
  await wallet.ready();
  const seed = await wallet.deliverySeed(crypto.deliverySeed);
  const opened = escrowedOpening(lic, seed);
  const d = opened.delivery;
  if (opened.right) {
    throw new Error(`the key delivered for licence ${lic.licenceId} is right: a key dispute would settle the sale to the seller, so it was not sent`);
  }
  const data = calls.disputeKey(lic.licenceId, opened.p, d.rX, d.rY, d.wrappedKey, d.keyHash);
  status('simulating the key dispute');
  await wallet.simulate({ to: config.contract, data }); // a dispute that would revert is never sent
  await wallet.send({ data }, status);
  status(`key dispute sent: licence ${lic.licenceId} refunded`);
  ctx.route();
}
