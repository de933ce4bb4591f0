// The listing (#/ and #/?q=...): every dataset, searched by title, description, owner or id. An address searched
// for is taken by the one address rule (addresses.js): a mixed-case address with a wrong checksum is refused, as
// the API and `list --owner` refuse it, never lower-cased into another owner's datasets.
import * as addresses from './addresses.js';
import { api, ctx, show } from './app.js';
import { h, short, showError, table } from './dom.js';

const ADDRESS_SHAPE = /^0x[0-9a-fA-F]{40}$/;

export async function listing() {
  const q = (new URLSearchParams(location.hash.split('?')[1] || '').get('q') || '').trim();
  const input = h('input', { id: 'search', type: 'search', value: q, placeholder: 'title, description, owner or id' });
  const form = h('form', { role: 'search', onsubmit: (e) => {
    e.preventDefault();
    location.hash = `#/?q=${encodeURIComponent(input.value)}`;
  } }, h('label', { for: 'search' }, 'Search datasets '), input, ' ', h('button', { type: 'submit' }, 'Search'));
  if (ADDRESS_SHAPE.test(q)) {
    try {
      addresses.parseAddress(q, ctx.config.chainId);
    } catch (err) {
      if (!(err instanceof addresses.AddressError)) throw err;
      show(h('h1', {}, 'Datasets'), form, h('p', { class: 'bad', role: 'alert', id: 'search-refused' }, err.message));
      showError(err);
      return;
    }
  }
  const { datasets } = await api(`/api/datasets?q=${encodeURIComponent(q)}`);
  const rows = datasets.map((d) => [
    h('a', { href: `#/dataset/${d.id}` }, d.title || `Dataset ${d.id}`),
    d.manifestError ? h('span', { class: 'bad', role: 'note' }, d.manifestError) : d.description,
    d.priceText, d.status, String(d.sold), short(d.owner),
  ]);
  show(h('h1', {}, 'Datasets'), form,
    table(`${datasets.length} dataset${datasets.length === 1 ? '' : 's'}${q ? ` matching “${q}”` : ''}`,
      ['Title', 'Description', 'Price', 'Status', 'Sold', 'Owner'], rows));
}
