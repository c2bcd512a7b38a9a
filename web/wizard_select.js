// wizard_select.js - step 2 of the "New migration" wizard: the source's collections in a
// filterable table (points, vectors, status) to tick, and the way on to the Schema step,
// which plans the ticked ones (replan in wizard_plan.js). vectorSummary is also the Schema
// step's list of a refused collection's source vectors.

import { h, mount, uid, fmtInt } from './util.js';
import { state, go, render } from './wizard_state.js';
import { loadCollections } from './wizard_connect.js';
import { replan } from './wizard_plan.js';

export function vectorSummary(c) {
  if (!c.vectors || !c.vectors.length) return h('span', { class: 'muted' }, 'no vectors');
  return h('ul', { class: 'vec-list' }, c.vectors.map((v) => {
    const name = v.name || '(unnamed)';
    const parts = v.sparse ? [] : [`dim ${v.size}`, v.distance];
    parts.push(v.datatype || 'float32');
    const unsupported = v.multivector || v.distance === 'Manhattan';
    return h('li', null,
      h('span', { class: 'vec-name' }, name), ' ',
      h('span', { class: 'muted' }, parts.join(' · ')), ' ',
      v.sparse ? h('span', { class: 'tag tag-sparse' }, 'sparse') : null,
      v.multivector ? h('span', { class: 'tag tag-multi' }, 'multivector') : null,
      unsupported ? h('span', { class: 'tag tag-warn', title: 'Milvus cannot hold this vector as it is' }, 'not supported by Milvus') : null);
  }));
}

export function selectStep() {
  const colls = state.collections || [];
  const tbody = h('tbody');
  const counter = h('p', { class: 'muted', 'aria-live': 'polite' });
  const next = h('button', { type: 'button', class: 'primary', onclick: () => makePlan() }, 'Next: review schema');
  const msg = h('div', { class: 'step-msg' });
  const all = h('input', {
    type: 'checkbox', 'aria-label': 'Select all collections',
    onchange: (e) => {
      for (const c of visible()) e.target.checked ? state.selected.add(c.name) : state.selected.delete(c.name);
      fill();
    },
  });
  const visible = () => colls.filter((c) => c.name.toLowerCase().includes(state.filter.toLowerCase()));

  function fill() {
    const rows = visible().map((c) => {
      const id = uid('cb');
      return h('tr', { class: state.selected.has(c.name) ? 'selected' : '' },
        h('td', null, h('input', {
          id, type: 'checkbox', checked: state.selected.has(c.name), 'aria-label': `Select ${c.name}`,
          onchange: (e) => { e.target.checked ? state.selected.add(c.name) : state.selected.delete(c.name); fill(); },
        })),
        h('td', null, h('label', { for: id, class: 'coll-name' }, c.name)),
        h('td', { class: 'num' }, fmtInt(c.points_approx)),
        h('td', null, vectorSummary(c)),
        h('td', null, c.status ? h('span', { class: `dot dot-${c.status}` }, c.status) : '—'));
    });
    mount(tbody, rows.length ? rows : h('tr', null, h('td', { colspan: 5, class: 'muted' },
      colls.length ? 'No collection matches the filter.' : 'The Qdrant server has no collections.')));
    const vis = visible();
    const nsel = vis.filter((c) => state.selected.has(c.name)).length;
    all.checked = vis.length > 0 && nsel === vis.length;
    all.indeterminate = nsel > 0 && nsel < vis.length;
    mount(counter, `${state.selected.size} of ${colls.length} selected`);
    next.disabled = state.selected.size === 0;
  }
  fill();

  const filterId = uid();
  return h('section', { 'aria-labelledby': 'step-title' },
    h('h2', { id: 'step-title', tabindex: -1 }, 'Select collections'),
    h('div', { class: 'toolbar' },
      h('div', { class: 'field inline' },
        h('label', { for: filterId }, 'Filter'),
        h('input', { id: filterId, type: 'search', value: state.filter, oninput: (e) => { state.filter = e.target.value; fill(); } })),
      h('button', {
        type: 'button', onclick: async () => { if (await loadCollections(msg)) render(); },
      }, 'Refresh'),
      counter),
    h('table', { class: 'grid' },
      h('caption', { class: 'sr-only' }, 'Qdrant collections'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col', class: 'cb' }, all),
        h('th', { scope: 'col' }, 'Collection'),
        h('th', { scope: 'col', class: 'num' }, 'Points'),
        h('th', { scope: 'col' }, 'Vectors'),
        h('th', { scope: 'col' }, 'Status'))),
      tbody),
    h('div', { class: 'actions bottom' },
      h('button', { type: 'button', onclick: () => go('connect') }, 'Back'), next),
    msg);

  async function makePlan() {
    next.disabled = true;
    mount(msg, h('p', { role: 'status', class: 'muted' }, 'Planning the Milvus schema…'));
    try {
      await replan();
      go('schema');
    } catch (e) {
      next.disabled = false;
      mount(msg, h('p', { role: 'alert', class: 'error' }, `Cannot make the plan: ${e.message}`));
    }
  }
}
