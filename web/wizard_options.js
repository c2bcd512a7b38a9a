// wizard_options.js - the Schema step's options for all collections (the CLI's plan options):
// payload nulls, payload keys equal to a field name (and their prefix), payload values that do
// not fit a typed field, profiling the payloads, the vector index and the vector limit. Each
// is stored in state.options and set on every planned collection, or planned again.

import { h, uid } from './util.js';
import { state, DEFAULT_VECTOR_LIMIT, MAX_VECTOR_LIMIT, render } from './wizard_state.js';
import { vectorLimit, replanAndShow } from './wizard_plan.js';

export function optionsPanel(cols, revalidate) {
  const sel = (label, key, choices, apply, after) => {
    const id = uid();
    return h('div', { class: 'field' },
      h('label', { for: id }, label),
      h('select', {
        id,
        onchange: (e) => {
          state.options[key] = e.target.value;
          for (const c of cols) apply(c, e.target.value);
          if (after) after();
        },
      }, choices.map(([v, t]) => h('option', { value: v, selected: state.options[key] === v }, t))));
  };
  const limitId = uid();
  const limitHint = uid('hint');
  return h('section', { class: 'panel options', 'aria-labelledby': 'opt-title' },
    h('h3', { id: 'opt-title' }, 'Options (all collections)'),
    h('div', { class: 'three-col' },
      sel('Null values in payloads', 'null_values', [
        ['fail', 'Fail the point (default)'], ['drop', 'Drop the key'], ['keep', 'Keep null']],
      (c, v) => { c.null_values = v; }),
      sel('Payload key equal to a field name', 'payload_conflict', [
        ['fail', 'Fail the point (default)'], ['prefix', 'Prefix it']],
      (c, v) => { c.payload_conflict = v; if (v === 'prefix') c.payload_prefix = state.options.payload_prefix; }, () => render()),
      state.options.payload_conflict === 'prefix' ? prefixField(cols, revalidate) : null,
      misfitField(),
      profileField(),
      sel('Vector index', 'index', [
        ['auto', 'AUTOINDEX (default)'], ['hnsw', 'HNSW with Qdrant’s m / ef_construct']],
      (c, v) => { c.index = v === 'hnsw' ? 'HNSW' : 'AUTOINDEX'; }, () => render()),
      h('div', { class: 'field' },
        h('label', { for: limitId }, 'Vector fields per collection'),
        h('input', {
          id: limitId, type: 'number', min: 1, max: MAX_VECTOR_LIMIT, value: vectorLimit(), 'aria-describedby': limitHint,
          onchange: (e) => {
            const n = Number(e.target.value);
            if (!Number.isInteger(n) || n < 1 || n > MAX_VECTOR_LIMIT) { e.target.value = vectorLimit(); return; }
            state.options.max_vector_fields = n;
            replanAndShow();
          },
        }),
        h('p', { id: limitHint, class: 'hint' }, `${DEFAULT_VECTOR_LIMIT} by default; up to ${MAX_VECTOR_LIMIT} if your Milvus allows more (its proxy.maxVectorFieldNum).`))));
}

const MISFIT = {
  dynamic: 'A value that does not fit its typed field (wrong type, too long, out of range) stays in $meta and the field is null (or its default); without either, the point is set aside.',
  reject: 'A point with a value that does not fit is set aside in the rejects file (set it on the Migrate step) and not copied.',
  fail: 'A value that does not fit fails its collection.',
};

/** Profile the payloads before planning (--profile): the typed fields sized from what was
 *  read, their types limited to what the values allow, the table under each collection. */
function profileField() {
  const id = uid('cb');
  const hint = uid('hint');
  return h('div', { class: 'field' },
    h('div', { class: 'field check' },
      h('input', {
        id, type: 'checkbox', checked: !!state.options.profile, 'aria-describedby': hint,
        onchange: (e) => { state.options.profile = e.target.checked; replanAndShow(); },
      }),
      h('label', { for: id }, 'Profile the payloads')),
    h('p', { id: hint, class: 'hint' }, 'Reads a sample of points (10 000 per collection) first: typed fields are sized from it and their types limited to what the values allow.'));
}

/** The misfit policy (--payload-misfit), planned again when changed, and what it does. */
function misfitField() {
  const id = uid();
  const hint = uid('hint');
  return h('div', { class: 'field' },
    h('label', { for: id }, 'Payload values that do not fit a typed field'),
    h('select', {
      id, 'aria-describedby': hint,
      onchange: (e) => { state.options.payload_misfit = e.target.value; replanAndShow(); },
    }, [['dynamic', 'Keep them in $meta (default)'], ['reject', 'Reject the point'], ['fail', 'Fail the collection']]
      .map(([v, t]) => h('option', { value: v, selected: state.options.payload_misfit === v }, t))),
    h('p', { id: hint, class: 'hint' }, MISFIT[state.options.payload_misfit]));
}

/** The prefix given to a payload key equal to a field name (the plan's payload_prefix). */
function prefixField(cols, revalidate) {
  const id = uid();
  const errId = uid('err');
  return h('div', { class: 'field' },
    h('label', { for: id }, 'Prefix for such payload keys'),
    h('input', {
      id, type: 'text', value: state.options.payload_prefix, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': errId,
      oninput: (e) => {
        state.options.payload_prefix = e.target.value;
        for (const c of cols) c.payload_prefix = e.target.value;
        revalidate();
      },
    }),
    h('p', { id: errId, class: 'field-error', 'data-err': JSON.stringify(['', 'prefix']), 'data-for': id }));
}
