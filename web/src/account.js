// My account (#/account): the licences held, the datasets owned with their sales and money flow, and withdrawing
// what the marketplace owes.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { amountOf } from './amounts.js';
import { api, app, connectFirst, ctx } from './app.js';
import { act, h, short, status, table, when } from './dom.js';
import { calls, ZERO } from './wallet.js';

// A dataset's money flow, as the API computes it for the CLI's `sales` too (datalicense/protocol/flow.py): paid in =
// to the owner + fees + refunded + to the buyer by ruling + in escrow, in the asset's own units.
const FLOW_PARTS = [['owner', 'to the owner', '#16a34a'], ['fee', 'platform fee', '#9333ea'],
  ['refunded', 'refunded', '#dc2626'], ['toBuyer', 'to the buyer by ruling', '#0891b2'], ['escrow', 'in escrow', '#f59e0b']];

function flowChart(f) {
  const el = h('div', { class: 'chart', role: 'img', 'aria-label': `money flow over time in ${f.symbol}: paid by buyers, ${FLOW_PARTS.map((p) => p[1]).join(', ')}` });
  const series = f.series;
  if (!series.length) return el;
  const xs = series.map((p) => p.time);
  const ys = (k) => series.map((p) => Number(BigInt(p[k])) / 10 ** f.decimals); // a chart's scale, not a figure shown
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

/** What the marketplace owes the account in one token (amounts.js formats it by the token's decimals and symbol). */
function tokenOwed(t) {
  const { wallet } = ctx;
  const text = amountOf(t.owed, t);
  const btn = h('button', { type: 'button', class: 'withdraw-token' }, `Withdraw ${text}`);
  btn.addEventListener('click', () => act(btn, async () => {
    await wallet.send({ data: calls.withdraw(t.asset, wallet.account) }, status);
    status('withdrawn');
    ctx.route();
  }));
  return h('p', { class: 'owed-asset' }, `${text} `, btn);
}

export async function accountPage() {
  const { wallet } = ctx;
  if (!wallet.account) return connectFirst('My account', 'Connect your wallet to see your licences and datasets.');
  const a = await api(`/api/accounts/${wallet.account}`);
  const withdrawBtn = h('button', { type: 'button', id: 'withdraw', disabled: BigInt(a.owed) === 0n }, `Withdraw ${a.owedText}`);
  withdrawBtn.addEventListener('click', () => act(withdrawBtn, async () => {
    await wallet.send({ data: calls.withdraw(ZERO, wallet.account) }, status);
    status('withdrawn');
    ctx.route();
  }));
  app.replaceChildren(
    h('h1', {}, 'My account'),
    h('section', { 'aria-labelledby': 'owed-h' }, h('h2', { id: 'owed-h' }, 'Owed to you'),
      h('p', { id: 'owed' }, a.owedText, ' '), withdrawBtn, (a.tokensOwed || []).map(tokenOwed)),
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
