// wizard_schema.js - step 3 of the "New migration" wizard: one card per planned collection
// (target name, description, field names, HNSW parameters, checked as they are typed; typed
// payload fields, planned again as they change: wizard_typed.js), the options for all
// collections (wizard_options.js), and the way on to the Migrate step once the names are checked against Milvus
// again. Refused collections show their ways out (wizard_refusal.js).

import { h, mount, uid, fmtInt, nameError, utf8Length, intError } from './util.js';
import { state, go } from './wizard_state.js';
import { vectorSummary } from './wizard_select.js';
import { migratable, recheck, backToSchema } from './wizard_plan.js';
import { fixOf, putBack, vectorChoice, refusalBanner } from './wizard_refusal.js';
import { typedSection } from './wizard_typed.js';
import { optionsPanel } from './wizard_options.js';

const vectorLabel = (v) => (v.source ? `vector ${v.source}` : 'the unnamed vector');
const hnswShown = () => state.options.index === 'hnsw';

/** All validation errors of the edited plan: [{coll, key, message}] (key as in data-key). */
function validate() {
  const errs = [];
  const cols = state.plan ? state.plan.collections.filter(migratable) : [];
  // every name taken twice is flagged on all its users, naming the others
  const dupes = (items, describe) => {
    for (const it of items) {
      if (it.bad) continue;
      const others = items.filter((o) => o !== it && !o.bad && o.name === it.name);
      if (others.length) errs.push({ coll: it.coll, key: it.key, message: describe(it, others) });
    }
  };
  const targets = [];
  for (const c of cols) {
    const e = nameError(c.target);
    if (e) errs.push({ coll: c.source, key: 'target', message: e });
    targets.push({ coll: c.source, key: 'target', name: c.target, bad: !!e });
    if (utf8Length(c.description || '') > 1023) errs.push({ coll: c.source, key: 'description', message: 'At most 1023 bytes.' });
    const fields = [{ key: 'pk', name: c.primary_key.name, what: 'the primary key' },
      ...c.vectors.map((v, i) => ({ key: `vec${i}`, name: v.field, what: vectorLabel(v) }))];
    for (const f of fields) {
      f.coll = c.source;
      const fe = nameError(f.name, { field: true });
      if (fe) errs.push({ coll: c.source, key: f.key, message: fe });
      f.bad = !!fe;
    }
    dupes(fields, (f, others) => `"${f.name}" is also used by ${others.map((o) => o.what).join(', ')}.`);
    if (hnswShown()) {
      c.vectors.forEach((v, i) => {
        if (!v.hnsw) return;
        const me = intError(v.hnsw.m, 2, 2048);
        if (me) errs.push({ coll: c.source, key: `m${i}`, message: `M: ${me}` });
        const ee = intError(v.hnsw.ef_construct, 1, 1000000000);
        if (ee) errs.push({ coll: c.source, key: `ef${i}`, message: `ef_construct: ${ee}` });
      });
    }
  }
  dupes(targets, (t, others) => `"${t.name}" is also the target of ${others.map((o) => o.coll).join(', ')}.`);
  if (state.options.payload_conflict === 'prefix' && !state.options.payload_prefix) {
    errs.push({ coll: '', key: 'prefix', message: 'A prefix is required (e.g. payload_).' });
  }
  return errs;
}

export function schemaStep() {
  const cols = state.plan.collections;
  const summary = h('div', { class: 'step-msg' });
  const checkMsg = h('div', { class: 'step-msg' });
  const next = h('button', { type: 'button', class: 'primary', onclick: () => checkAndGo() }, 'Next: review and migrate');
  const cards = h('div', { class: 'cards' });

  function revalidate() {
    const errs = validate();
    for (const msgEl of [...cards.querySelectorAll('[data-err]'), ...(opts ? opts.querySelectorAll('[data-err]') : [])]) {
      const [coll, key] = JSON.parse(msgEl.dataset.err);
      const e = errs.find((x) => x.coll === coll && x.key === key);
      msgEl.textContent = e ? e.message : '';
      const input = document.getElementById(msgEl.dataset.for);
      if (input) input.setAttribute('aria-invalid', e ? 'true' : 'false');
    }
    // an "exists" banner holds only while the target is the name that exists
    for (const c of cols) {
      if (!c._card) continue;
      const lifted = c.error && migratable(c);
      for (const el of c._card.querySelectorAll('[data-refusal]')) el.hidden = lifted;
      const b = c._card.querySelector('.card-badge');
      if (b) mount(b, c.error && !lifted ? h('span', { class: 'badge badge-failed' }, 'Refused') : null);
    }
    const ok = cols.filter(migratable).length;
    const refused = cols.length - ok;
    next.disabled = errs.length > 0 || ok === 0;
    mount(summary,
      h('p', { class: errs.length ? 'error' : 'muted', role: errs.length ? 'alert' : 'status' },
        errs.length
          ? `${errs.length} name${errs.length > 1 ? 's need' : ' needs'} fixing before you can continue.`
          : `${ok} collection${ok === 1 ? '' : 's'} will be migrated${refused ? `, ${refused} refused` : ''}.`));
  }

  /** Plan again with the names as edited: a target that exists in Milvus by now is refused
   *  here, with its way out, rather than left out of the job when it is created. */
  async function checkAndGo() {
    next.disabled = true;
    mount(checkMsg, h('p', { role: 'status', class: 'muted' }, 'Checking the target names against Milvus…'));
    let lost;
    try {
      lost = await recheck();
    } catch (e) {
      next.disabled = false;
      mount(checkMsg, h('p', { role: 'alert', class: 'error' }, `Cannot check the plan: ${e.message}`));
      return;
    }
    if (!lost.length) go('migrate');
    else backToSchema(lost);
  }

  for (const c of cols) cards.append(collectionCard(c, revalidate));
  const opts = optionsPanel(cols, revalidate);
  const notice = state.schemaNotice;
  state.schemaNotice = null;
  const leftOut = (state.leftOut || []).filter((n) => !state.selected.has(n));
  revalidate();
  return h('section', { 'aria-labelledby': 'step-title' },
    h('h2', { id: 'step-title', tabindex: -1 }, 'Schema'),
    h('p', { class: 'lead' }, 'The Milvus collection planned for each Qdrant collection. Names are editable; types, dimensions and metrics follow the source.'),
    notice ? h('p', { role: 'alert', class: 'error notice' }, notice) : null,
    opts,
    cards,
    leftOut.length ? h('p', { class: 'muted left-out' }, `Left out of this migration: ${leftOut.join(', ')}. `,
      h('button', { type: 'button', class: 'link', onclick: () => putBack(leftOut) }, 'Put them back')) : null,
    summary,
    checkMsg,
    h('div', { class: 'actions bottom' },
      h('button', { type: 'button', onclick: () => go('select') }, 'Back'), next));
}

/** An input bound to obj[key] with an inline validation message (data-err = [coll, key]). */
function nameInput(label, obj, key, coll, errKey, revalidate, { textarea = false } = {}) {
  const id = uid();
  const errId = uid('err');
  const attrs = {
    id, value: obj[key] || '', 'aria-describedby': errId, spellcheck: 'false', autocomplete: 'off',
    oninput: (e) => { obj[key] = e.target.value; revalidate(); },
  };
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    textarea ? h('textarea', { ...attrs, rows: 2 }) : h('input', { ...attrs, type: 'text' }),
    h('p', { id: errId, class: 'field-error', 'data-err': JSON.stringify([coll, errKey]), 'data-for': id }));
}

/** A number input for one HNSW parameter of a vector, with its inline message. */
function hnswInput(label, v, key, coll, errKey, revalidate) {
  const id = uid();
  const errId = uid('err');
  return [
    h('input', {
      id, type: 'number', min: key === 'm' ? 2 : 1, value: v.hnsw[key] ?? '', 'aria-label': label, 'aria-describedby': errId, class: 'num-small',
      oninput: (e) => { v.hnsw[key] = e.target.value === '' ? null : Number(e.target.value); revalidate(); },
    }),
    h('p', { id: errId, class: 'field-error', 'data-err': JSON.stringify([coll, errKey]), 'data-for': id }),
  ];
}

function collectionCard(c, revalidate) {
  const titleId = uid('coll');
  const src = (state.collections || []).find((x) => x.name === c.source);
  const fix = fixOf(c);
  const editable = !c.error || ['target_name', 'job', 'rename_field', 'description', 'typed_field', 'payload_misfit'].includes(fix);
  const head = h('h3', { id: titleId }, c.source);
  const count = h('p', { class: 'muted' }, `${fmtInt(c.source_count)} points in Qdrant`);

  if (!editable) {
    c._card = h('section', { class: 'card refused', role: 'region', 'aria-labelledby': titleId },
      h('div', { class: 'card-head' }, head, h('span', { class: 'card-badge' }, h('span', { class: 'badge badge-failed' }, 'Refused'))),
      refusalBanner(c),
      vectorChoice(c),
      src ? h('div', null, h('p', { class: 'muted' }, 'Source vectors:'), vectorSummary(src)) : null,
      count);
    return c._card;
  }

  const pk = c.primary_key;
  const pkType = pk.type === 'VarChar' ? `VarChar(${pk.max_length || 36})` : pk.type;
  const showHnsw = hnswShown();
  const vecRows = c.vectors.map((v, i) => {
    const id = uid();
    const errId = uid('err');
    return h('tr', null,
      h('td', null, v.source || h('span', { class: 'muted' }, '(unnamed)')),
      h('td', null,
        h('input', {
          id, type: 'text', value: v.field, 'aria-label': `Field name for ${vectorLabel(v)}`,
          'aria-describedby': errId, spellcheck: 'false', autocomplete: 'off',
          oninput: (e) => { v.field = e.target.value; revalidate(); },
        }),
        h('p', { id: errId, class: 'field-error', 'data-err': JSON.stringify([c.source, `vec${i}`]), 'data-for': id })),
      h('td', null, v.type),
      h('td', { class: 'num' }, v.dim ?? '—'),
      h('td', null, v.metric),
      h('td', null, v.source_datatype || 'float32', v.source_datatype && v.source_datatype !== 'float32' ? h('span', { class: 'muted' }, ' → float32') : null),
      showHnsw ? h('td', null, v.type === 'FLOAT_VECTOR' ? hnswCell(v, i) : '—') : null);
  });
  function hnswCell(v, i) {
    if (!v.hnsw) v.hnsw = { m: null, ef_construct: null };
    return h('div', { class: 'hnsw' },
      h('span', null, 'M ', hnswInput(`HNSW M for ${vectorLabel(v)}`, v, 'm', c.source, `m${i}`, revalidate)),
      h('span', null, 'ef ', hnswInput(`HNSW ef_construct for ${vectorLabel(v)}`, v, 'ef_construct', c.source, `ef${i}`, revalidate)));
  }
  const cols = ['Qdrant', 'Milvus field', 'Type', 'Dim', 'Metric', 'Source datatype', ...(showHnsw ? ['HNSW'] : [])];
  const blank = showHnsw ? 4 : 3;

  c._card = h('section', { class: 'card', role: 'region', 'aria-labelledby': titleId },
    h('div', { class: 'card-head' }, head, h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→'),
      h('span', { class: 'muted' }, 'Milvus collection'), h('span', { class: 'card-badge' }), count),
    c.error ? refusalBanner(c) : null,
    h('div', { class: 'two-col' },
      nameInput('Target collection name', c, 'target', c.source, 'target', revalidate),
      nameInput('Description', c, 'description', c.source, 'description', revalidate, { textarea: true })),
    vectorChoice(c),
    h('h4', null, 'Fields'),
    h('table', { class: 'grid fields' },
      h('caption', { class: 'sr-only' }, `Fields of ${c.source}`),
      h('thead', null, h('tr', null, cols.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null,
        h('tr', null,
          h('td', null, 'point id'),
          h('td', null, (() => {
            const id = uid();
            const errId = uid('err');
            return [
              h('input', {
                id, type: 'text', value: pk.name, 'aria-label': 'Primary key field name', 'aria-describedby': errId,
                spellcheck: 'false', autocomplete: 'off', oninput: (e) => { pk.name = e.target.value; revalidate(); },
              }),
              h('p', { id: errId, class: 'field-error', 'data-err': JSON.stringify([c.source, 'pk']), 'data-for': id }),
            ];
          })()),
          h('td', null, pkType, h('span', { class: 'tag' }, 'primary key')),
          Array.from({ length: blank }, () => h('td', null, '—'))),
        vecRows,
        h('tr', null,
          h('td', null, 'payload'), h('td', null, h('code', null, '$meta')),
          h('td', null, 'JSON (dynamic field)'), Array.from({ length: blank }, () => h('td', null, '—'))))),
    h('ul', { class: 'facts' },
      h('li', null, 'Dynamic field: ', h('strong', null, 'on')),
      h('li', null, 'Partition key: ', h('strong', null, c.partition_key ? `${c.partition_key} (${c.num_partitions} partitions)` : 'off')),
      h('li', null, 'Auto ID: ', h('strong', null, 'off')),
      c.skipped_vectors && c.skipped_vectors.length
        ? h('li', null, 'Skipped vectors: ', h('strong', null, c.skipped_vectors.join(', '))) : null),
    typedSection(c),
    c.notes && c.notes.length
      ? h('div', { class: 'notes' }, h('h4', null, 'Notes'), h('ul', null, c.notes.map((n) => h('li', null, n))))
      : null);
  return c._card;
}
