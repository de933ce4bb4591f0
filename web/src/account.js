// My account (#/account): the licences held, the datasets owned with their sales and money flow, and withdrawing
// what the marketplace owes.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { amountOf } from './amounts.js';
import { api, connectFirst, ctx, show } from './app.js';
import { act, h, short, status, table, when } from './dom.js';
import { calls, ZERO } from './wallet.js';

// A dataset's money flow, as the API computes it for the CLI's `sales` too (datalicense/protocol/flow.py): paid in =
// to the owner + fees + refunded + to the buyer by ruling + in escrow, in the asset's own units.
const FLOW_PARTS = [['owner', 'to the owner', '#16a34a'], ['fee', 'platform fee', '#9333ea'],
  ['refunded', 'refunded', '#dc2626'], ['toBuyer', 'to the buyer by ruling', '#0891b2'], ['escrow', 'in escrow', '#f59e0b']];

/** The running totals as steps: a total holds until the block that changes it (each point is repeated at the next
 * point's time), and the last totals hold until now. xs in seconds; one column per key, in the asset's units. */
export function steps(series, keys, decimals, now = Date.now() / 1000) {
  const xs = [];
  const cols = keys.map(() => []);
  const push = (t, p) => { xs.push(t); keys.forEach((k, j) => cols[j].push(Number(BigInt(p[k])) / 10 ** decimals)); };
  series.forEach((p, i) => {
    if (i > 0) push(p.time, series[i - 1]);
    push(p.time, p);
  });
  const last = series[series.length - 1];
  push(Math.max(now, last.time + 60), last);
  return [xs, ...cols];
}

/** The amount axis: ticks at 1, 2 or 5 times a power of ten no finer than the asset's smallest unit, each label
 * written with as many decimals as its step needs (labels never repeat, as rounded ones did: 0.002, 0.002, ...). */
export function amountAxis(decimals, onLabels = () => {}) {
  const incrs = [];
  for (let e = -decimals; e <= 30; e++) for (const m of [1, 2, 5]) incrs.push(m * 10 ** e);
  return {
    incrs,
    values: (u, splits, axisIdx, space, incr) => {
      const digits = Math.min(decimals, Math.max(0, Math.ceil(-Math.log10(incr) - 1e-9)));
      const labels = splits.map((v) => v.toFixed(digits));
      onLabels(labels);
      return labels;
    },
  };
}

function flowChart(f) {
  const el = h('div', { class: 'chart', role: 'img', 'aria-label': `money flow over time in ${f.symbol}: paid by buyers, ${FLOW_PARTS.map((p) => p[1]).join(', ')}` });
  if (!f.series.length) return el;
  const keys = ['paid', ...FLOW_PARTS.map(([k]) => k)];
  const data = steps(f.series, keys, f.decimals); // a chart's scale, not a figure shown (those are exact, in text)
  const opts = {
    width: 560, height: 220, scales: { x: { time: true } },
    legend: { live: false }, // the legend names the lines; the amounts are in the text above, exact
    axes: [{}, { ...amountAxis(f.decimals, (labels) => { el.dataset.yTicks = JSON.stringify(labels); }), size: 70 }],
    series: [{}, { label: `paid by buyers (${f.symbol})`, stroke: '#2563eb' }, ...FLOW_PARTS.map(([, label, stroke]) => ({ label, stroke }))],
  };
  requestAnimationFrame(() => { el.chart = new uPlot(opts, data, el); });
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
  show(
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
