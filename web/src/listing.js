// The listing (#/ and #/?q=...): every dataset, searched by title, description, owner or id.
import { api, app } from './app.js';
import { h, short, table } from './dom.js';

export async function listing() {
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
