// wizard_typed.js - the Schema step's "Typed payload fields" section of a collection card: one
// row per typed field the plan holds (payload key, Milvus field name, type, sizes, nullable,
// default, scalar index, partition key), "Keep in $meta" to demote one, a form to promote
// another payload key. Nothing is checked here: every change becomes a --field (or --rename)
// edit in state.typed and the collection is planned again, so the library's refusal comes
// back in the plan and is shown on the row it is about; an edit the server cannot take at all
// (HTTP 400) is taken back, its message shown on that row. The profile table is wizard_profile.js.

import { h, uid } from './util.js';
import { state, render } from './wizard_state.js';
import { replan } from './wizard_plan.js';
import { TYPES, profileKeys, profileTable, typesAllowed } from './wizard_profile.js';

const INDEXES = ['NONE', 'INVERTED', 'STL_SORT', 'BITMAP', 'Trie', 'AUTOINDEX'];

/** A typed field's type as the --field spec names it (ARRAY + element type = ARRAY_ELEM). */
export const specType = (f) => (f.type === 'ARRAY' ? `ARRAY_${f.element_type}` : f.type);
const hasLength = (t) => t === 'VARCHAR' || t === 'ARRAY_VARCHAR';
const noDefault = (t) => t === 'JSON' || t === 'TIMESTAMPTZ' || t === 'GEOMETRY' || t.startsWith('ARRAY_');

/** The whole --field spec of a typed field as planned, with the changes in ch applied. A new
 *  type is sent without sizes and index, so the library gives the type's own. */
export function fieldSpec(f, c, ch = {}) {
  const was = specType(f);
  const t = ch.type || was;
  const v = { ...f, ...ch };
  const pk = 'partition_key' in ch ? ch.partition_key : c.partition_key === f.field;
  const opts = [v.nullable ? 'nullable' : 'not_null'];
  if (t === was) {
    if (hasLength(t) && v.max_length) opts.push(`max_length=${v.max_length}`);
    if (t.startsWith('ARRAY_') && v.max_capacity) opts.push(`max_capacity=${v.max_capacity}`);
    if (v.index) opts.push(`index=${v.index}`);
  }
  if (v.default !== null && v.default !== undefined && v.default !== '' && !noDefault(t)) opts.push(`default=${v.default}`);
  if (pk) {
    opts.push('partition_key');
    const n = ch.partitions ?? c.num_partitions;
    if (n) opts.push(`partitions=${n}`);
  }
  return `${t}:${opts.join(',')}`;
}

function edits(c) {
  if (!state.typed.has(c.source)) state.typed.set(c.source, { specs: new Map(), names: new Map() });
  return state.typed.get(c.source);
}

/** The last edit the server refused outright: {coll, key, message}, shown once on its row. */
let failed = null;

/** Change the edits of c's typed fields (mutate(edits)) for key and plan again; when the
 *  server refuses the request itself, the edits are put back as they were (a refusal in
 *  the plan keeps them: the plan shows it and the user changes the field). */
async function apply(c, key, mutate) {
  const t = edits(c);
  const before = { specs: new Map(t.specs), names: new Map(t.names) };
  mutate(t);
  failed = null;
  try {
    await replan();
  } catch (e) {
    state.typed.set(c.source, before);
    failed = { coll: c.source, key, message: `Not planned: ${e.message}` };
  }
  render();
}

/** Record a --field edit for key and plan again. */
export function setSpec(c, key, spec) {
  return apply(c, key, (t) => {
    t.specs.set(key, spec);
    if (spec === 'dynamic') t.names.delete(key); // a key in $meta has no field to rename
  });
}

/** Change one typed field: re-send its whole spec; choosing a partition key takes it off the
 *  field that had it (Milvus takes one). */
function change(c, f, ch) {
  if (ch.partition_key) {
    const old = (c.typed_fields || []).find((x) => x !== f && x.field === c.partition_key);
    if (old) edits(c).specs.set(old.key, fieldSpec(old, c, { partition_key: false }));
  }
  setSpec(c, f.key, fieldSpec(f, c, ch));
}

/** Rename a typed field (an empty name: back to the payload key's). */
function rename(c, f, name) {
  return apply(c, f.key, (t) => { if (!name || name === f.key) t.names.delete(f.key); else t.names.set(f.key, name); });
}

/** What went wrong with this payload key: the plan's refusal about it (error.field), or the
 *  last edit of it the server did not take. */
function refusalOf(c, key) {
  if (failed && failed.coll === c.source && failed.key === key) return failed.message;
  return c.error && c.error.fix === 'typed_field' && c.error.field === key ? c.error.message : '';
}

function select(label, value, choices, onchange) {
  return h('select', { 'aria-label': label, onchange: (e) => onchange(e.target.value) },
    choices.map((v) => h('option', { value: v, selected: v === value }, v)));
}

function num(label, value, min, onchange) {
  return h('input', {
    type: 'number', min, value: value ?? '', 'aria-label': label, class: 'num-small',
    onchange: (e) => { const n = Number(e.target.value); if (Number.isInteger(n) && n >= min) onchange(n); },
  });
}

function fieldRow(c, f, pkGroup) {
  const t = specType(f);
  const allowed = typesAllowed(c, f.key);
  const types = allowed.includes(t) ? allowed : [t, ...allowed];
  const errId = uid('err');
  const msg = refusalOf(c, f.key);
  const isPk = c.partition_key === f.field;
  const nullId = uid('cb');
  const pkId = uid('rb');
  return h('tr', { 'data-key': f.key },
    h('td', null, h('code', null, f.key), f.qdrant_index ? h('div', { class: 'muted' }, `Qdrant index: ${f.qdrant_index}`) : null),
    h('td', null,
      h('input', {
        type: 'text', value: f.field, spellcheck: 'false', autocomplete: 'off', 'aria-label': `Field name for payload key ${f.key}`,
        'aria-describedby': errId, 'aria-invalid': msg ? 'true' : 'false', onchange: (e) => rename(c, f, e.target.value.trim()),
      }),
      h('p', { id: errId, class: 'field-error', role: msg ? 'alert' : null }, msg)),
    h('td', null, select(`Type of ${f.key}`, t, types, (v) => change(c, f, { type: v }))),
    h('td', null,
      hasLength(t) ? h('div', null, 'length ', num(`Max length of ${f.key}`, f.max_length, 1, (n) => change(c, f, { max_length: n }))) : null,
      t.startsWith('ARRAY_') ? h('div', null, 'capacity ', num(`Max capacity of ${f.key}`, f.max_capacity, 1, (n) => change(c, f, { max_capacity: n }))) : null,
      !hasLength(t) && !t.startsWith('ARRAY_') ? '—' : null),
    h('td', null, h('input', { id: nullId, type: 'checkbox', checked: !!f.nullable, onchange: (e) => change(c, f, { nullable: e.target.checked }) }),
      h('label', { for: nullId, class: 'sr-only' }, `Nullable ${f.key}`)),
    h('td', null, noDefault(t) ? '—' : h('input', {
      type: 'text', value: f.default ?? '', 'aria-label': `Default of ${f.key}`, class: 'num-small', spellcheck: 'false',
      onchange: (e) => change(c, f, { default: e.target.value }),
    })),
    h('td', null, select(`Index of ${f.key}`, f.index || 'NONE', INDEXES, (v) => change(c, f, { index: v }))),
    h('td', null, h('input', { id: pkId, type: 'radio', name: pkGroup, checked: isPk, onchange: () => change(c, f, { partition_key: true }) }),
      h('label', { for: pkId, class: 'sr-only' }, `Partition key ${f.key}`)),
    h('td', null, h('button', { type: 'button', onclick: () => setSpec(c, f.key, 'dynamic') }, 'Keep in $meta', h('span', { class: 'sr-only' }, ` (${f.key})`))));
}

/** Partition key: none, or the number of partitions of the chosen one. */
function partitionLine(c, pkGroup) {
  const f = (c.typed_fields || []).find((x) => x.field === c.partition_key);
  const noneId = uid('rb');
  return h('div', { class: 'field inline-check partition' },
    h('input', { id: noneId, type: 'radio', name: pkGroup, checked: !f, onchange: () => f && change(c, f, { partition_key: false }) }),
    h('label', { for: noneId }, 'No partition key'),
    f ? h('span', null, ` Partition key: `, h('strong', null, f.field), ', partitions ',
      num('Partitions', c.num_partitions, 1, (n) => change(c, f, { partitions: n }))) : null);
}

/** Keys the user kept in $meta although the plan proposed them: each can be typed again. */
function demoted(c) {
  const t = state.typed.get(c.source);
  const keys = [...(t?.specs || [])].filter(([, s]) => s === 'dynamic').map(([k]) => k);
  if (!keys.length) return null;
  return h('p', { class: 'muted' }, 'Kept in $meta: ', keys.map((k) => h('span', { class: 'tag' }, k, ' ',
    h('button', { type: 'button', class: 'link', onclick: () => apply(c, k, (x) => x.specs.delete(k)) }, `Type ${k} again`))));
}

/** Promote a payload key: a key (the profile's untyped keys offered) and a type. */
function promote(c) {
  const keyId = uid();
  const typeId = uid();
  const listId = uid('dl');
  const typed = new Set((c.typed_fields || []).map((f) => f.key));
  const offered = profileKeys(c).filter((k) => !typed.has(k));
  const keyIn = h('input', { id: keyId, type: 'text', spellcheck: 'false', autocomplete: 'off', list: offered.length ? listId : null });
  const typeIn = h('select', { id: typeId }, TYPES.map((v) => h('option', { value: v }, v)));
  keyIn.addEventListener('input', () => {
    const allowed = typesAllowed(c, keyIn.value.trim());
    for (const o of typeIn.options) o.disabled = !allowed.includes(o.value);
    if (typeIn.selectedOptions[0]?.disabled) typeIn.value = allowed[0];
  });
  const msg = failed && failed.coll === c.source && !typed.has(failed.key) ? failed.message : '';
  return h('div', { class: 'promote three-col' },
    h('div', { class: 'field' }, h('label', { for: keyId }, 'Payload key to type'), keyIn,
      offered.length ? h('datalist', { id: listId }, offered.map((k) => h('option', { value: k }))) : null),
    h('div', { class: 'field' }, h('label', { for: typeId }, 'Type for the new field'), typeIn),
    h('div', { class: 'field' }, h('button', {
      type: 'button',
      onclick: () => { const k = keyIn.value.trim(); if (k) setSpec(c, k, typeIn.value); },
    }, 'Add typed field')),
    h('p', { class: 'field-error', role: msg ? 'alert' : null }, msg));
}

export function typedSection(c) {
  const fields = c.typed_fields || [];
  const pkGroup = uid('pk');
  const cols = ['Payload key', 'Milvus field', 'Type', 'Size', 'Nullable', 'Default', 'Index', 'Partition key', ''];
  const titleId = uid('typed');
  return h('section', { class: 'typed', 'aria-labelledby': titleId },
    h('h4', { id: titleId }, 'Typed payload fields'),
    h('p', { class: 'hint' }, 'Payload keys with a Milvus field of their own (filterable, indexed); every other key stays in the dynamic field $meta. Changes are checked by planning again.'),
    fields.length
      ? h('table', { class: 'grid typed-fields' },
        h('caption', { class: 'sr-only' }, `Typed payload fields of ${c.source}`),
        h('thead', null, h('tr', null, cols.map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, fields.map((f) => fieldRow(c, f, pkGroup))))
      : h('p', { class: 'muted' }, 'No typed payload fields: the whole payload goes to $meta.'),
    fields.length ? partitionLine(c, pkGroup) : null,
    c.error && c.error.fix === 'typed_field' && !fields.some((f) => f.key === c.error.field)
      ? h('p', { class: 'field-error', role: 'alert' }, c.error.message) : null,
    demoted(c),
    promote(c),
    h('p', { class: 'muted' }, 'Values that do not fit their field: ', h('strong', null, c.payload_misfit || state.options.payload_misfit), ' (see “Payload values that do not fit a typed field” above).'),
    profileTable(c));
}
