// job_fix.js - the parts of a job's page that get a migration out of trouble or confirm it:
// for each failed or cancelled collection a card offering exactly the changes that can fix
// its error (chosen from the job's `error_fix` word, in plain words, no CLI flags), and once
// collections are done, the facts of their Milvus collections (rows, load state) and the
// verdict of "Verify again". jobs.js runs what the buttons ask for.

import { h, uid, fmtInt, fmtTime, nameError } from './util.js';

const ended = (c) => c.status === 'FAILED' || c.status === 'CANCELLED' || c.status === 'CANCELED';

/** Retry changes for one collection: {collections: {SRC: change}}. */
const forColl = (c, change) => ({ collections: { [c.source]: change } });

function hint(c) {
  return c.error_hint ? h('p', { class: 'hint fix-hint' }, c.error_hint) : null;
}

function button(label, onclick, cls = '') {
  return h('button', { type: 'button', class: cls, onclick }, label);
}

/** A text (or number) field with its label and the error under it; check(value) -> why not. */
function field(label, value, { type = 'text', check = () => null, help } = {}) {
  const id = uid('fix');
  const errId = `${id}-err`;
  const input = h('input', { id, type, value, 'aria-describedby': errId, autocomplete: 'off' });
  const error = h('p', { class: 'field-error', id: errId, 'aria-live': 'polite' });
  const validate = () => {
    const why = check(input.value.trim());
    error.textContent = why || '';
    if (why) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    return why ? null : input.value.trim();
  };
  input.addEventListener('input', validate);
  return {
    el: h('div', { class: 'field' }, h('label', { for: id }, label), input,
      help ? h('p', { class: 'hint' }, help) : null, error),
    value: validate,
  };
}

/** A new target name for the collection and its retry button. */
function rename(c, act, cls = '') {
  const f = field('New target collection name', `${c.target}_2`, { check: (v) => nameError(v) || (v === c.target ? 'This is the name that failed.' : null) });
  return [f.el, h('div', { class: 'actions' }, button('Retry under this name', () => {
    const v = f.value();
    if (v) act(`Retry as ${v}`, 'retry', forColl(c, { target_name: v }));
  }, cls))];
}

/** The controls of one fix word: a list of nodes; act(label, verb, changes) runs a button. */
const FIXES = {
  null_values: (c, act) => [
    h('p', null, c.error_field
      ? `A point has a null value in the payload key “${c.error_field}”. Milvus cannot store it as it is.`
      : 'A point has a null payload value, which Milvus cannot store as it is.'),
    h('div', { class: 'actions' },
      button('Retry with nulls dropped', () => act('Retry with nulls dropped', 'retry', forColl(c, { null_values: 'drop' })), 'primary'),
      button('Retry with nulls kept', () => act('Retry with nulls kept', 'retry', forColl(c, { null_values: 'keep' })))),
    h('p', { class: 'hint' }, 'Dropped: such keys are left out of the point (counted as dropped nulls). Kept: stored as JSON null.'),
  ],
  payload_conflict: (c, act) => [
    h('p', null, c.error_field
      ? `The payload key “${c.error_field}” has the name of a field of the Milvus schema.`
      : 'A payload key has the name of a field of the Milvus schema.'),
    h('div', { class: 'actions' },
      button('Retry with conflicting keys prefixed', () => act('Retry with conflicting keys prefixed', 'retry', forColl(c, { payload_conflict: 'prefix' })), 'primary')),
    h('p', { class: 'hint' }, 'Such keys are stored as payload_<key>.'),
  ],
  target_name: (c, act) => rename(c, act, 'primary'),
  skip_vector: (c, act) => (c.error_field ? [
    h('div', { class: 'actions' }, button(`Retry without the vector “${c.error_field}”`,
      () => act(`Retry without the vector ${c.error_field}`, 'retry', forColl(c, { skip_vectors: [c.error_field] })), 'primary')),
    h('p', { class: 'hint' }, 'The other vectors and the payload are copied; this vector is not.'),
  ] : []),
  vector_limit: (c, act, job) => {
    const pc = (job.plan?.collections || []).find((p) => p.source === c.source);
    const have = pc ? (pc.vectors || []).length : 0;
    const f = field('Vector fields Milvus allows per collection', String(Number(c.error_fix_arg) || have || 5), {
      type: 'number',
      check: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 10 ? null : 'A whole number from 1 to 10.'),
      help: 'Milvus allows 4 unless its proxy.maxVectorFieldNum was raised; give what your server allows.',
    });
    return [f.el, h('div', { class: 'actions' }, button('Retry with this vector limit', () => {
      const v = f.value();
      if (v) act(`Retry with a limit of ${v} vectors`, 'retry', { max_vector_fields: Number(v) }); // one limit: the server's
    }, 'primary'))];
  },
  rejects: (c, act) => {
    const f = field('File for the points Milvus cannot take', '', {
      check: (v) => (v.startsWith('/') ? null : 'An absolute path on the machine running vmigrate serve.'),
      help: 'One JSON line per point set aside (collection, id, reason); the others are copied.',
    });
    return [f.el, h('div', { class: 'actions' }, button('Retry, setting such points aside', () => {
      const v = f.value();
      if (v) act('Retry, setting points aside', 'retry', { rejects: v });
    }, 'primary'))];
  },
  payload_misfit: (c, act) => {
    const f = field('File for the points set aside', '', {
      check: (v) => (v.startsWith('/') ? null : 'An absolute path on the machine running vmigrate serve.'),
      help: 'Kept in $meta: the typed field is null there (or its default). Set aside: one JSON line per point in the file; the others are copied.',
    });
    return [
      h('p', null, c.error_field
        ? `A value of the payload key “${c.error_field}” does not fit its typed field.`
        : 'A payload value does not fit its typed field.'),
      h('div', { class: 'actions' },
        button('Retry with such values kept in $meta', () => act('Retry with such values kept in $meta', 'retry', forColl(c, { payload_misfit: 'dynamic' })), 'primary')),
      f.el,
      h('div', { class: 'actions' }, button('Retry, setting such points aside', () => {
        const v = f.value();
        if (v) act('Retry, setting such points aside', 'retry', { rejects: v, collections: { [c.source]: { payload_misfit: 'reject' } } });
      })),
    ];
  },
  resume: (c, act) => [h('div', { class: 'actions' }, button('Resume', () => act('Resume', 'resume'), 'primary'))],
  busy: (c, act) => [
    c.error_fix_arg ? h('p', null, 'The job ', h('a', { href: `#/jobs/${encodeURIComponent(c.error_fix_arg)}` }, c.error_fix_arg),
      ` is writing the target collection “${c.target}”. Once it has ended (or you cancelled it), retry.`) : null,
    h('div', { class: 'actions' }, button('Retry', () => act('Retry', 'retry', {}))),
    h('p', null, 'Or copy into another collection:'),
    rename(c, act),
  ],
};
FIXES.wait_timeout = FIXES.resume;

/** The card of a failed or cancelled collection, or null. act(label, verb, changes). */
export function fixCard(c, job, act) {
  if (!ended(c) || job.orphaned || job.status === 'PENDING' || job.status === 'IN_PROGRESS') return null;
  // a collection cancelled without an error has nothing to fix: the job's Resume continues it
  if (c.status !== 'FAILED' && !c.error_fix) return null;
  const titleId = uid('fix-title');
  const make = FIXES[c.error_fix];
  let body;
  if (make) {
    body = make(c, act, job);
  } else {
    body = [h('p', null, 'Correct what the error names, then retry.'),
      h('div', { class: 'actions' }, button('Retry', () => act('Retry', 'retry', {})))];
  }
  return h('section', { class: 'card fix', 'aria-labelledby': titleId },
    h('h4', { id: titleId }, `Fix ${c.source}`), // its error is on its row above
    hint(c), body);
}

// ---- after success ----------------------------------------------------------------------

/** Rows and load state of a finished collection's Milvus collection (rows as last counted:
 *  by "Verify again", else by the job's verification), or null. */
export function milvusFacts(c, v) {
  if (c.status !== 'SUCCESSFUL') return null;
  const rows = v ? v.target_count : c.verify ? c.verify.target_count : c.written;
  return h('div', { class: 'milvus-facts' }, `${fmtInt(rows)} rows`, h('br'),
    c.state?.loaded ? 'loaded: searchable' : 'not loaded');
}

/** The verdict of "Verify again" for one collection, or null. */
export function verdictText(v) {
  if (!v) return null;
  const same = v.verdict === 'same';
  return h('div', { class: `again ${same ? 'ok' : 'error'}` },
    h('strong', null, same ? 'Same' : 'Different'),
    ` when verified again: ${fmtInt(v.target_count)} of ${fmtInt(v.source_count)} points`,
    v.sampled ? `, ${fmtInt(v.sampled)} sampled: ${fmtInt(v.missing)} missing, ${fmtInt(v.vector_diffs)} vector and ${fmtInt(v.payload_diffs)} payload differences` : '',
    v.at_ms ? h('span', { class: 'muted' }, ` (${fmtTime(v.at_ms)})`) : null,
    v.error ? h('div', { class: 'small' }, v.error) : null);
}

/** The Milvus collections a restart drops: those this job created. */
export const restartDrops = (job) => (job.collections || []).filter((c) => c.state?.created).map((c) => c.target);
