// wizard_migrate.js - step 4 of the "New migration" wizard: the review (collections, points,
// plan options, what is refused), the job options (verify sample, stored secrets, wait for the
// index, a rejects file), and Start migration: plan once more, POST /jobs, then open the job
// (or say what the server left out of it).

import { api } from './api.js';
import { h, mount, uid, fmtInt } from './util.js';
import { state, DEFAULT_VECTOR_LIMIT, go, endpoint } from './wizard_state.js';
import { migratable, recheck, backToSchema } from './wizard_plan.js';
import { jobLink } from './wizard_refusal.js';

/** What a created job holds and what the server refused, from the POST /jobs answer. */
function createdResult(job) {
  const held = job.collections || [];
  const n = held.length;
  return h('div', { role: 'status', class: 'panel' },
    h('p', null, `Job ${job.id} created. It holds ${n} collection${n === 1 ? '' : 's'}, ${fmtInt(job.points || 0)} points.`),
    h('p', { class: 'error' }, `Not in the job (refused when it was created):`),
    h('ul', null, job.refused.map((r) => h('li', null, h('strong', null, r.source), `: ${r.message} (${r.code})`,
      r.hint ? ` ${r.hint}.` : null, r.fix === 'job' && r.fix_arg ? [' ', jobLink(r.fix_arg)] : null))),
    h('a', { href: `#/jobs/${encodeURIComponent(job.id)}`, class: 'button primary' }, 'Open the job'));
}

/** The plan as POST /jobs takes it: the wizard's own keys (_...) dropped (a profile stays: the
 *  plan reader takes it), and no refusal (the server checks the plan again against the source
 *  and Milvus). */
function planToSend(cols) {
  return {
    version: state.plan.version || 1,
    collections: cols.map((c) => {
      const out = Object.fromEntries(Object.entries(c).filter(([k]) => !k.startsWith('_')));
      out.error = null;
      return out;
    }),
  };
}

/** The job options of POST /jobs; the plan options the server re-plans with (the vector
 *  limit) and the rejects file only when set, as the CLI's flags. */
function jobOptions() {
  const o = {
    verify_sample: Number(state.jobOptions.verify_sample) || 0,
    store_secrets: !!state.jobOptions.store_secrets,
    wait_index: !!state.jobOptions.wait_index,
  };
  if (state.options.max_vector_fields !== DEFAULT_VECTOR_LIMIT) o.max_vector_fields = state.options.max_vector_fields;
  if (state.jobOptions.rejects_on && state.jobOptions.rejects.trim()) o.rejects = state.jobOptions.rejects.trim();
  return o;
}

/** The plan options in words, for the review. */
function planFacts(cols) {
  const o = state.options;
  const facts = [
    { fail: 'Null payload values fail the point', drop: 'Null payload values dropped', keep: 'Null payload values kept' }[o.null_values],
    o.payload_conflict === 'prefix' ? `Payload keys equal to a field name prefixed with ${o.payload_prefix}` : 'Payload keys equal to a field name fail the point',
    o.index === 'hnsw' ? 'HNSW index' : 'AUTOINDEX',
  ];
  facts.push({ dynamic: 'Payload values that do not fit a typed field stay in $meta', reject: 'Points with a payload value that does not fit a typed field are rejected', fail: 'A payload value that does not fit a typed field fails its collection' }[o.payload_misfit]);
  if (o.max_vector_fields !== DEFAULT_VECTOR_LIMIT) facts.push(`Up to ${o.max_vector_fields} vector fields per collection`);
  for (const c of cols) if ((c.skipped_vectors || []).length) facts.push(`${c.source}: vectors left out: ${c.skipped_vectors.join(', ')}`);
  for (const c of cols) {
    const typed = (c.typed_fields || []).map((f) => `${f.field} ${f.type === 'ARRAY' ? `ARRAY<${f.element_type}>` : f.type}${f.nullable ? ' (nullable)' : ''}`);
    if (typed.length) facts.push(`${c.source}: typed payload fields: ${typed.join(', ')}${c.partition_key ? `; partition key ${c.partition_key}` : ''}`);
  }
  return facts;
}

export function migrateStep() {
  const cols = state.plan.collections.filter(migratable);
  const notMigrated = state.plan.collections.filter((c) => !migratable(c));
  const total = cols.reduce((s, c) => s + (c.source_count || 0), 0);
  const msg = h('div', { class: 'step-msg' });
  const verifyId = uid();
  const back = h('button', { type: 'button', onclick: () => go('schema') }, 'Back');
  const start = h('button', {
    type: 'button', class: 'primary',
    onclick: async () => {
      start.disabled = true;
      mount(msg, h('p', { role: 'status', class: 'muted' }, 'Creating the job…'));
      try {
        // the names were checked on the schema step; a target may have appeared since: a
        // collection is never left out of the job unless the user chose so
        const wanted = new Set(cols.map((c) => c.source));
        const lost = await recheck();
        if (lost.length) {
          backToSchema(lost);
          return;
        }
        const run = state.plan.collections.filter((c) => wanted.has(c.source) && migratable(c));
        const job = await api.createJob(endpoint('source'), endpoint('target'), planToSend(run), jobOptions());
        // a fresh wizard for the next migration; the connection settings stay
        state.plan = null;
        state.selected.clear();
        state.skips.clear();
        state.typed.clear();
        state.leftOut = [];
        state.step = 'select';
        const refused = job.refused || [];
        if (!refused.length) {
          location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
          return;
        }
        // the server left collections out (checked again at creation): say what the job holds
        back.disabled = true; // this plan is done: the wizard starts over
        mount(msg, createdResult(job));
        msg.querySelector('a').focus();
      } catch (e) {
        start.disabled = false;
        mount(msg, h('p', { role: 'alert', class: 'error' }, `Cannot start the migration: ${e.message}`,
          e.hint ? ` ${e.hint}.` : null, e.fix === 'job' && e.fixArg ? [' ', jobLink(e.fixArg)] : null));
      }
    },
  }, 'Start migration');
  const storeId = uid();
  const waitIndexId = uid();
  const waitIndexHint = uid('hint');
  return h('section', { 'aria-labelledby': 'step-title' },
    h('h2', { id: 'step-title', tabindex: -1 }, 'Migrate'),
    h('p', { class: 'lead' }, `${cols.length} collection${cols.length === 1 ? '' : 's'}, ${fmtInt(total)} points, from `,
      h('code', null, state.source.url), ' to ', h('code', null, state.target.url),
      state.target.db && state.target.db !== 'default' ? [' (database ', h('code', null, state.target.db), ')'] : null, '.'),
    h('table', { class: 'grid' },
      h('caption', { class: 'sr-only' }, 'Collections to migrate'),
      h('thead', null, h('tr', null, ['Qdrant collection', 'Milvus collection', 'Points', 'Fields'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, cols.map((c) => h('tr', null,
        h('td', null, c.source), h('td', null, h('strong', null, c.target)),
        h('td', { class: 'num' }, fmtInt(c.source_count)),
        h('td', null, [c.primary_key.name, ...c.vectors.map((v) => v.field), ...(c.typed_fields || []).map((f) => f.field)].join(', ')))))),
    h('ul', { class: 'facts plan-options', 'aria-label': 'Plan options' }, planFacts(cols).map((f) => h('li', null, f))),
    notMigrated.length
      ? h('div', { class: 'panel not-migrated', role: 'note', 'aria-label': 'Not migrated' },
        h('p', null, h('strong', null, 'Not in this job (refused): '), notMigrated.map((c) => c.source).join(', '),
          '. Go back to the schema to fix them, or start without them.'))
      : null,
    h('section', { class: 'panel', 'aria-label': 'Job options' },
      h('div', { class: 'field' },
        h('label', { for: verifyId }, 'Verify a sample of points after copying'),
        h('input', {
          id: verifyId, type: 'number', min: 0, max: 100000, value: state.jobOptions.verify_sample,
          oninput: (e) => { state.jobOptions.verify_sample = e.target.value; },
        }),
        h('p', { class: 'hint' }, 'Counts are always compared; 0 skips the point sample.')),
      h('div', { class: 'field check' },
        h('input', { id: storeId, type: 'checkbox', checked: state.jobOptions.store_secrets, onchange: (e) => { state.jobOptions.store_secrets = e.target.checked; } }),
        h('label', { for: storeId }, 'Store the API key and token encrypted with the job (needed to resume it later)')),
      h('div', { class: 'field check' },
        h('input', {
          id: waitIndexId, type: 'checkbox', checked: state.jobOptions.wait_index, 'aria-describedby': waitIndexHint,
          onchange: (e) => { state.jobOptions.wait_index = e.target.checked; },
        }),
        h('label', { for: waitIndexId }, 'Wait for the index build before the job counts as done'),
        h('p', { id: waitIndexHint, class: 'hint' }, 'Off: the job is done once the collection is loaded and verified — it is searchable then, and Milvus goes on building its index.')),
      rejectsField()),
    h('div', { class: 'actions bottom' },
      back, start),
    msg);
}

/** Points Milvus cannot take (a payload over 64 KiB): fail the collection (default) or set
 *  them aside in a file on the machine running vmigrate serve and go on (the CLI's --rejects). */
function rejectsField() {
  const onId = uid();
  const pathId = uid();
  const hintId = uid('hint');
  const path = h('input', {
    id: pathId, type: 'text', value: state.jobOptions.rejects, placeholder: '/var/tmp/vmigrate-rejects.jsonl',
    disabled: !state.jobOptions.rejects_on, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': hintId,
    oninput: (e) => { state.jobOptions.rejects = e.target.value; },
  });
  return h('div', { class: 'field rejects' },
    h('div', { class: 'field check' },
      h('input', {
        id: onId, type: 'checkbox', checked: state.jobOptions.rejects_on,
        onchange: (e) => { state.jobOptions.rejects_on = e.target.checked; path.disabled = !e.target.checked; },
      }),
      h('label', { for: onId }, 'Set aside points Milvus cannot take (payload over 64 KiB) and go on')),
    h('label', { for: pathId }, 'Rejects file'),
    path,
    h('p', { id: hintId, class: 'hint' }, 'An absolute path on the machine running vmigrate serve; each set-aside point is written to it as a JSON line. Off: such a point fails its collection.'));
}
