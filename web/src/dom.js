// Building the page: elements (text is always text, never markup), tables, the status and error lines, and the
// small formats of addresses, durations and dates. Amounts are formatted by amounts.js.

const statusEl = document.getElementById('status');
const errorEl = document.getElementById('error');

/** Build an element: h('a', {href: '#/'}, 'text', child...). Text is always set as text, never as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function status(text) { statusEl.textContent = text || ''; }

export function showError(err) {
  errorEl.textContent = err ? (err.message || String(err)).split('\n')[0] : '';
  errorEl.hidden = !err;
  if (err) status('');
}

export const short = (a) => (a ? `${a.slice(0, 6)}…${a.slice(-4)}` : '');
export const duration = (s) => (s === 0 ? 'perpetual' : s % 86400 === 0 ? `${s / 86400} day${s === 86400 ? '' : 's'}` : `${(s / 3600).toFixed(1)} hours`);
export const when = (t) => new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

export function table(caption, head, rows) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))
      : h('tr', {}, h('td', { colspan: head.length }, 'none yet'))));
}

export function dl(pairs) {
  return h('dl', {}, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** Run a button's action: the button disabled meanwhile, an error shown in one line. */
export async function act(button, fn) {
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
