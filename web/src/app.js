// What every view shares: the server's configuration, the wallet, the router (set by main.js), and the API.
import { act, h } from './dom.js';

export const ctx = { config: null, wallet: null, route: async () => {}, renderWalletBox: async () => {} };
export const app = document.getElementById('app');

/** Show a page: its parts in order, leaving out the ones a page does not have (null, undefined, false); the DOM's
 * replaceChildren would show a null as the text "null". */
export function show(...parts) {
  app.replaceChildren(...parts.flat().filter((p) => p !== null && p !== undefined && p !== false));
}

export async function api(path, init) {
  const resp = await fetch(path, init);
  const body = await resp.json().catch(() => ({ error: `the server answered ${resp.status}` }));
  if (!resp.ok) throw new Error(body.error || `the server answered ${resp.status}`);
  return body;
}

export async function explain(data) {
  return (await api('/api/explain', { method: 'POST', body: JSON.stringify({ data }) })).message;
}

/** A page that needs the wallet: its title, why, and a button that connects. */
export function connectFirst(title, why) {
  const b = h('button', { type: 'button', onclick: (e) => act(e.target, async () => {
    await ctx.wallet.ready(); ctx.renderWalletBox(); ctx.route();
  }) }, 'Connect wallet');
  show(h('h1', {}, title), h('p', {}, why, ' '), b);
}
