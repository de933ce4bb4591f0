// My pools (#/pools): per pool and epoch what the account earned, claimed and can claim, revoking consent (or
// signing a revocation for someone else to send), and every licence sold of the data, with the account's share.
// Amounts are shown in the asset each is in (the answer's `assets` list, formatted by amounts.js).
import * as addresses from './addresses.js';
import { amountOf } from './amounts.js';
import { api, connectFirst, ctx, show } from './app.js';
import { act, h, short, status, table, when } from './dom.js';
import { calls } from './wallet.js';

function poolSection(p, assets) {
  const { wallet } = ctx;
  if (p.error) return h('section', { class: 'pool' }, h('h2', {}, `Pool ${short(p.address)}`), h('p', { class: 'bad' }, p.error));
  const rows = p.rows.map((r) => {
    const amount = (units) => amountOf(units, assets[r.asset]);
    const claimBtn = h('button', { type: 'button', class: 'claim', disabled: BigInt(r.claimable) === 0n,
      'aria-label': `claim ${amount(r.claimable)} of epoch ${r.epoch}` }, `Claim ${amount(r.claimable)}`);
    claimBtn.addEventListener('click', () => act(claimBtn, async () => {
      await wallet.send({ to: p.address, data: calls.claim(r.epoch, r.asset, r.weight, r.proof) }, status);
      status(`claimed epoch ${r.epoch}`);
      ctx.route();
    }));
    const cells = [String(r.epoch), `${r.weight} of ${r.totalWeight}`, amount(r.claimed), claimBtn,
      r.revoked ? 'consent revoked' : 'consent given'];
    if (r.epoch === p.epoch && !r.revoked && r.asset === p.rows[0].asset) cells[4] = consentCell(p, r);
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
        amountOf(s.toPool, assets[s.asset]), amountOf(s.yourShare, assets[s.asset])])));
}

/** Consent given in the current epoch: revoke it (a transaction), or sign a revocation someone else sends. */
function consentCell(p, r) {
  const { wallet } = ctx;
  const revokeBtn = h('button', { type: 'button', class: 'revoke' }, 'Revoke consent');
  revokeBtn.addEventListener('click', () => act(revokeBtn, async () => {
    await wallet.send({ to: p.address, data: calls.revokeConsent(r.weight, r.proof) }, status);
    status('consent revoked: the next version of the dataset must leave your records out');
    ctx.route();
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
  return h('span', {}, 'consent given ', revokeBtn, ' ', signBtn);
}

/** Anyone sends a contributor's signed revocation (and pays its gas). */
function relaySection() {
  const { wallet, config } = ctx;
  const input = h('textarea', { id: 'revocation-input', rows: 3, cols: 60 });
  const sendBtn = h('button', { type: 'button', id: 'send-revocation' }, 'Send');
  sendBtn.addEventListener('click', () => act(sendBtn, async () => {
    let r;
    try { r = JSON.parse(input.value); } catch { throw new Error('that is not a signed revocation (JSON from "Sign a revocation")'); }
    // the pool and the account are parsed as every address the page takes: a mistyped checksum is refused
    const pool = addresses.parseAddress(r.pool, config.chainId), account = addresses.parseAddress(r.account, config.chainId);
    await wallet.send({ to: pool, data: calls.revokeConsentFor(account, r.weight, r.proof, r.signature) }, status);
    status(`consent of ${addresses.display(account, config.chainId)} revoked`);
    ctx.route();
  }));
  return h('section', { 'aria-labelledby': 'relay-h' }, h('h2', { id: 'relay-h' }, 'Send a signed revocation'),
    h('p', {}, h('label', { for: 'revocation-input' }, "A contributor's signed revocation (you pay the gas)")),
    input, ' ', sendBtn);
}

export async function poolsPage() {
  const { wallet } = ctx;
  if (!wallet.account) return connectFirst('My pools', 'Connect your wallet to see the pools your records are in.');
  const c = await api(`/api/contributors/${wallet.account}`);
  const assets = Object.fromEntries((c.assets || []).map((a) => [a.asset, a]));
  const sections = c.pools.map((p) => poolSection(p, assets));
  show(h('h1', {}, 'My pools'),
    sections.length ? h('div', { id: 'pools' }, sections) : h('p', { id: 'pools' }, 'Your account is in no pool.'),
    (c.skipped || []).length ? h('p', { id: 'pools-skipped', class: 'note' },
      `${c.skipped.length} pool(s) could not be read and are not shown: `,
      c.skipped.map((s) => `${short(s.address)} (${s.reason})`).join('; ')) : '',
    relaySection());
}
