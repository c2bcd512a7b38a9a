// wizard.js - the "New migration" wizard: Connect -> Select -> Schema -> Migrate.
// All state (including the Qdrant API key and the Milvus token) lives in this module's memory
// only: nothing is written to localStorage/sessionStorage, put in a URL, or logged.

import { api } from './api.js';
import { h, mount, uid, fmtInt, nameError, utf8Length, intError } from './util.js';

const STEPS = [
  ['connect', 'Connect'],
  ['select', 'Select collections'],
  ['schema', 'Schema'],
  ['migrate', 'Migrate'],
];

const DEFAULT_VECTOR_LIMIT = 4; // Milvus's proxy.maxVectorFieldNum by default
const MAX_VECTOR_LIMIT = 10;

const state = {
  step: 'connect',
  source: { url: 'http://localhost:6333', api_key: '', ca_file: '', insecure: false },
  target: { url: 'http://localhost:19530', token: '', db: 'default', ca_file: '', insecure: false },
  check: { source: null, target: null }, // null | {busy} | {ok, version} | {error}
  collections: null,                     // source collections (API objects)
  selected: new Set(),
  filter: '',
  plan: null,                            // {collections: [...]} as returned by POST /plan (edited in place)
  // the CLI's plan options: --null-values, --payload-conflict, --index, --max-vector-fields
  options: { null_values: 'fail', payload_conflict: 'fail', payload_prefix: 'payload_', index: 'auto', max_vector_fields: DEFAULT_VECTOR_LIMIT },
  skips: new Map(),                      // source collection -> Set of vector names left out (--skip-vector)
  jobOptions: { verify_sample: 100, store_secrets: true, wait_index: false, rejects_on: false, rejects: '' },
};

let root = null;
let connectMsg = null; // the Connect step's message, cleared once both checks are green

/** Mount the wizard into `el` (called by the router). */
export function showWizard(el) {
  root = el;
  render();
}

function go(step) {
  state.step = step;
  render();
  const heading = root.querySelector('h2');
  if (heading) heading.focus();
}

function render() {
  const idx = STEPS.findIndex(([k]) => k === state.step);
  const stepper = h('nav', { 'aria-label': 'Migration steps', class: 'stepper' },
    h('ol', null, STEPS.map(([key, label], i) => {
      const reachable = i < idx;
      return h('li', { class: i === idx ? 'current' : i < idx ? 'done' : '' },
        reachable
          ? h('button', { type: 'button', class: 'link', onclick: () => go(key) }, `${i + 1}. ${label}`)
          : h('span', { 'aria-current': i === idx ? 'step' : null }, `${i + 1}. ${label}`));
    })));
  const body = { connect: connectStep, select: selectStep, schema: schemaStep, migrate: migrateStep }[state.step]();
  mount(root, stepper, body);
}

// ---- 1. Connect ------------------------------------------------------------------------

function textField(label, obj, key, { type = 'text', placeholder, hint, onchange } = {}) {
  const id = uid();
  const hintId = hint ? uid('hint') : null;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', {
      id, type, value: obj[key], placeholder, autocomplete: 'off', spellcheck: 'false',
      'aria-describedby': hintId,
      oninput: (e) => { obj[key] = e.target.value; onchange && onchange(); },
    }),
    hint ? h('p', { id: hintId, class: 'hint' }, hint) : null);
}

function checkField(label, obj, key, onchange) {
  const id = uid();
  return h('div', { class: 'field check' },
    h('input', { id, type: 'checkbox', checked: obj[key], onchange: (e) => { obj[key] = e.target.checked; onchange(); } }),
    h('label', { for: id }, label));
}

function endpointPanel(side) {
  const isSrc = side === 'source';
  const ep = state[side];
  const product = isSrc ? 'Qdrant' : 'Milvus';
  const statusEl = h('div', { class: 'check-result' });
  const reset = () => { state.check[side] = null; showCheck(statusEl, side); };
  const fields = isSrc
    ? [
      textField('Qdrant URL', ep, 'url', { placeholder: 'http://localhost:6333', hint: 'The REST endpoint (port 6333 by default).', onchange: reset }),
      textField('Qdrant API key', ep, 'api_key', { type: 'password', hint: 'Leave empty if the server has no key.', onchange: reset }),
    ]
    : [
      textField('Milvus URL', ep, 'url', { placeholder: 'http://localhost:19530', hint: 'Milvus gRPC endpoint (port 19530) or a Zilliz Cloud public endpoint.', onchange: reset }),
      textField('Milvus token', ep, 'token', { type: 'password', hint: 'user:password, or a Zilliz Cloud API key. Leave empty without authentication.', onchange: reset }),
      textField('Database', ep, 'db', { placeholder: 'default', onchange: reset }),
    ];
  showCheck(statusEl, side);
  return h('section', { class: 'panel', 'aria-labelledby': `${side}-title` },
    h('h3', { id: `${side}-title` }, isSrc ? 'Source: Qdrant' : 'Target: Milvus / Zilliz Cloud'),
    fields,
    h('details', { class: 'advanced' },
      h('summary', null, 'TLS options'),
      textField(`${product} CA file`, ep, 'ca_file', { placeholder: '/path/to/ca.pem', hint: 'A PEM file on the machine running vmigrate serve.', onchange: reset }),
      checkField('Skip TLS certificate verification (self-signed test servers only)', ep, 'insecure', reset)),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => runCheck(side, statusEl) }, `Test ${product} connection`)),
    statusEl);
}

function showCheck(el, side) {
  const c = state.check[side];
  if (!c) mount(el);
  else if (c.busy) mount(el, h('p', { role: 'status', class: 'muted' }, 'Connecting…'));
  else if (c.ok) mount(el, h('p', { role: 'status', class: 'ok' }, `Connected: ${side === 'source' ? 'Qdrant' : 'Milvus'} ${c.version || ''}`.trim()));
  else mount(el, h('p', { role: 'alert', class: 'error' }, c.error));
}

function endpoint(side) {
  const ep = state[side];
  const out = { url: ep.url.trim(), ca_file: ep.ca_file.trim() || null, insecure: !!ep.insecure };
  if (side === 'source') out.api_key = ep.api_key || null;
  else { out.token = ep.token || null; out.db = ep.db.trim() || 'default'; }
  return out;
}

async function runCheck(side, el) {
  if (!state[side].url.trim()) {
    state.check[side] = { error: 'Enter the URL first.' };
    if (el) showCheck(el, side);
    return false;
  }
  state.check[side] = { busy: true };
  if (el) showCheck(el, side);
  try {
    const r = side === 'source' ? await api.checkSource(endpoint(side)) : await api.checkTarget(endpoint(side));
    state.check[side] = r.ok === false ? { error: r.message || 'The check failed.' } : { ok: true, version: r.version };
  } catch (e) {
    state.check[side] = { error: e.message };
  }
  if (el) showCheck(el, side);
  if (state.check.source?.ok && state.check.target?.ok && connectMsg?.dataset.kind === 'connection') mount(connectMsg);
  return !!state.check[side].ok;
}

function connectStep() {
  const srcPanel = endpointPanel('source');
  const dstPanel = endpointPanel('target');
  const msg = h('div', { class: 'step-msg' });
  connectMsg = msg;
  const next = h('button', {
    type: 'button', class: 'primary',
    onclick: async () => {
      next.disabled = true;
      msg.dataset.kind = '';
      mount(msg, h('p', { role: 'status', class: 'muted' }, 'Checking both connections…'));
      const els = [srcPanel, dstPanel].map((p) => p.querySelector('.check-result'));
      const [a, b] = await Promise.all([
        state.check.source?.ok || runCheck('source', els[0]),
        state.check.target?.ok || runCheck('target', els[1]),
      ]);
      if (!(a && b)) {
        next.disabled = false;
        if (state.check.source?.ok && state.check.target?.ok) return; // fixed meanwhile: runCheck cleared it
        msg.dataset.kind = 'connection';
        mount(msg, h('p', { role: 'alert', class: 'error' }, 'Fix the connection errors above to continue.'));
        return;
      }
      mount(msg);
      if (await loadCollections(msg)) go('select');
      next.disabled = false;
    },
  }, 'Next: select collections');
  return h('section', { 'aria-labelledby': 'step-title' },
    h('h2', { id: 'step-title', tabindex: -1 }, 'Connect'),
    h('p', { class: 'lead' }, 'Where to copy from and to. Secrets stay in this page’s memory and are sent only to vmigrate serve.'),
    h('div', { class: 'two-col' }, srcPanel, dstPanel),
    h('div', { class: 'actions bottom' }, next),
    msg);
}

async function loadCollections(msgEl) {
  try {
    const r = await api.collections(endpoint('source'));
    state.collections = r.collections || [];
    const names = new Set(state.collections.map((c) => c.name));
    for (const n of [...state.selected]) if (!names.has(n)) state.selected.delete(n);
    return true;
  } catch (e) {
    if (msgEl) mount(msgEl, h('p', { role: 'alert', class: 'error' }, `Cannot list the collections: ${e.message}`));
    return false;
  }
}

// ---- 2. Select -------------------------------------------------------------------------

function vectorSummary(c) {
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

function selectStep() {
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

/** The plan options as POST /plan takes them (the CLI's flags of the same names). */
function planOptions() {
  const o = { null_values: state.options.null_values, payload_conflict: state.options.payload_conflict, index: state.options.index };
  if (state.options.max_vector_fields !== DEFAULT_VECTOR_LIMIT) o.max_vector_fields = state.options.max_vector_fields;
  return o;
}

/** The edits the server must plan with: vectors left out, and each valid target name the user
 *  chose (so the plan says whether that name exists in Milvus). */
function planEdits(names, before) {
  const edits = [];
  const renamed = new Set();
  for (const n of names) {
    for (const v of state.skips.get(n) || []) edits.push({ kind: 'skip-vector', value: `${n}.${v}` });
    const old = before.get(n);
    if (old && old.target !== old._auto_target && !nameError(old.target)) {
      edits.push({ kind: 'target-name', value: `${n}=${old.target}` });
      renamed.add(n);
    }
  }
  return { edits, renamed };
}

/** Plan the selected collections again (after a change of selection, skipped vectors or the
 *  vector limit, and before migrating: a target name may exist by now), keeping the edits. */
async function replan() {
  const names = (state.collections || []).map((c) => c.name).filter((n) => state.selected.has(n));
  const before = new Map((state.plan?.collections || []).map((c) => [c.source, c]));
  const { edits, renamed } = planEdits(names, before);
  const plan = await api.plan(endpoint('source'), endpoint('target'), names, planOptions(), edits);
  for (const c of plan.collections) {
    const old = before.get(c.source);
    c._auto_target = renamed.has(c.source) ? old._auto_target : c.target;
    c._auto_description = c.description; // no description edit is sent: this is the default
    c._exists_name = c.error?.code === 'exists' ? c.target : null;
    if (c.payload_conflict === 'prefix') c.payload_prefix = state.options.payload_prefix;
    keepEdits(old, c);
  }
  state.plan = plan;
  return { before, plan };
}

/** Carry what was edited in an earlier plan of the same collection into a new one: the
 *  description, the primary key and vector field names, the HNSW parameters. */
function keepEdits(old, c) {
  if (!old) return;
  if (old.target !== old._auto_target) c.target = old.target; // also a name still being typed
  if (old.description !== old._auto_description) c.description = old.description;
  if (old.primary_key && c.primary_key) c.primary_key.name = old.primary_key.name;
  for (const v of c.vectors || []) {
    const o = (old.vectors || []).find((x) => x.source === v.source);
    if (!o) continue;
    v.field = o.field;
    if (o.hnsw && v.type === 'FLOAT_VECTOR') v.hnsw = { ...o.hnsw };
  }
}

// ---- 3. Schema -------------------------------------------------------------------------

/** A collection can be migrated unless refused; an "exists" refusal is lifted by a new target name. */
const migratable = (c) => !c.error || (c.error.code === 'exists' && c.target !== c._exists_name);
const vectorLabel = (v) => (v.source ? `vector ${v.source}` : 'the unnamed vector');
const hnswShown = () => state.options.index === 'hnsw';

/** The way out of a refusal, as the server's `fix` word; without one (an older server), what
 *  the facts of the plan say: an "exists" code, or more vectors than the limit. */
function fixOf(c) {
  const e = c.error;
  if (!e) return null;
  if (e.fix) return e.fix;
  if (e.code === 'exists') return 'target_name';
  if (e.code === 'schema' && keptVectors(c) > vectorLimit()) return 'vector_limit';
  if (e.code === 'schema' && e.field) return 'skip_vector';
  return null;
}

const vectorLimit = () => state.options.max_vector_fields || DEFAULT_VECTOR_LIMIT;
/** How many of the source collection's vectors are not left out. */
const keptVectors = (c) => {
  const src = (state.collections || []).find((x) => x.name === c.source);
  const skips = state.skips.get(c.source) || new Set();
  return (src?.vectors || []).filter((v) => !skips.has(v.name)).length;
};

/** What the user can do about a refusal, in the console's words (its controls, no CLI flags). */
function fixWords(c, fix) {
  const vec = c.error.field ? `vector ${c.error.field}` : 'the vector';
  switch (fix) {
    case 'target_name': return 'Give the Milvus collection another name below, or leave this collection out.';
    case 'job': return 'A job of this console created it: continue that job (Retry or Resume on its page), give the Milvus collection another name below, or leave this collection out.';
    case 'skip_vector': return c.error.field && canChooseVectors(c)
      ? `Leave ${vec} out (untick it under “Vectors to copy”), or leave this collection out.`
      : 'Leave this collection out: Milvus cannot hold its only vector.';
    case 'vector_limit': return 'Untick vectors under “Vectors to copy” until it fits, raise the vector limit if your Milvus allows more vector fields per collection (its proxy.maxVectorFieldNum), or leave this collection out.';
    case 'rename_field': return 'Change the field name below.';
    case 'description': return 'Shorten the description below.';
    default: return c.error.hint ? `${c.error.hint}.` : 'Leave this collection out to migrate the others.';
  }
}

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

function schemaStep() {
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

/** Plan again and return the collections that were to be migrated and no longer can be (a
 *  target name taken in Milvus meanwhile); state.plan is the new plan, edits kept. */
async function recheck() {
  const wanted = new Set(state.plan.collections.filter(migratable).map((c) => c.source));
  await replan();
  return state.plan.collections.filter((c) => wanted.has(c.source) && !migratable(c));
}

/** Show the schema step with the collections that cannot be migrated as planned. */
function backToSchema(lost) {
  state.schemaNotice = `${lost.map((c) => c.source).join(', ')} cannot be migrated as planned: see ${lost.length === 1 ? 'its card' : 'their cards'} below. Nothing was started.`;
  go('schema');
}

/** Re-plan after a change that alters the schema (skipped vectors, the vector limit, the
 *  selection); a failure is shown at the top of the step. */
async function replanAndShow() {
  try {
    await replan();
  } catch (e) {
    state.schemaNotice = `Cannot plan again: ${e.message}`;
  }
  render();
}

function leaveOut(c) {
  state.selected.delete(c.source);
  state.leftOut = [...new Set([...(state.leftOut || []), c.source])];
  state.plan.collections = state.plan.collections.filter((x) => x !== c);
  render();
}

function putBack(names) {
  for (const n of names) state.selected.add(n);
  state.leftOut = [];
  replanAndShow();
}

function optionsPanel(cols, revalidate) {
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

const namedVectors = (c) => ((state.collections || []).find((x) => x.name === c.source)?.vectors || []).filter((v) => v.name);
/** Vectors can be chosen when there are two named ones (or one was left out already). */
const canChooseVectors = (c) => namedVectors(c).length >= 2 || (c.skipped_vectors || []).length > 0;

/** "Vectors to copy": one checkbox per named source vector (the CLI's --skip-vector). */
function vectorChoice(c) {
  if (!canChooseVectors(c)) return null;
  const named = namedVectors(c);
  const skips = state.skips.get(c.source) || new Set();
  return h('fieldset', { class: 'vector-choice' },
    h('legend', null, 'Vectors to copy'),
    named.map((v) => {
      const id = uid('cb');
      return h('span', { class: 'field check inline-check' },
        h('input', {
          id, type: 'checkbox', checked: !skips.has(v.name),
          onchange: (e) => {
            const s = new Set(state.skips.get(c.source) || []);
            if (e.target.checked) s.delete(v.name); else s.add(v.name);
            state.skips.set(c.source, s);
            replanAndShow();
          },
        }),
        h('label', { for: id }, `Copy vector ${v.name}`));
    }));
}

function refusalBanner(c) {
  const fix = fixOf(c);
  const kept = keptVectors(c);
  const title = c.error.code === 'exists' ? 'Target exists: ' : 'Cannot be migrated: ';
  return h('div', { role: 'alert', class: 'refusal', 'data-refusal': '1' },
    h('p', null, h('strong', null, title), c.error.message),
    h('p', { class: 'fix' }, fixWords(c, fix)),
    h('div', { class: 'actions' },
      fix === 'job' && c.error.fix_arg ? jobLink(c.error.fix_arg) : null,
      fix === 'vector_limit' && kept <= MAX_VECTOR_LIMIT && kept > vectorLimit()
        ? h('button', {
          type: 'button',
          onclick: () => { state.options.max_vector_fields = kept; replanAndShow(); },
        }, `Raise the vector limit to ${kept}`)
        : null,
      h('button', { type: 'button', onclick: () => leaveOut(c) }, 'Leave this collection out')));
}

function collectionCard(c, revalidate) {
  const titleId = uid('coll');
  const src = (state.collections || []).find((x) => x.name === c.source);
  const fix = fixOf(c);
  const editable = !c.error || ['target_name', 'job', 'rename_field', 'description'].includes(fix);
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
      h('li', null, 'Partition key: ', h('strong', null, 'off')),
      h('li', null, 'Auto ID: ', h('strong', null, 'off')),
      c.skipped_vectors && c.skipped_vectors.length
        ? h('li', null, 'Skipped vectors: ', h('strong', null, c.skipped_vectors.join(', '))) : null),
    c.notes && c.notes.length
      ? h('div', { class: 'notes' }, h('h4', null, 'Notes'), h('ul', null, c.notes.map((n) => h('li', null, n))))
      : null);
  return c._card;
}

// ---- 4. Migrate ------------------------------------------------------------------------

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

/** The plan as POST /jobs takes it: the wizard's own keys (_...) dropped, and no refusal (the
 *  server checks the plan again against the source and Milvus). */
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
  if (o.max_vector_fields !== DEFAULT_VECTOR_LIMIT) facts.push(`Up to ${o.max_vector_fields} vector fields per collection`);
  for (const c of cols) if ((c.skipped_vectors || []).length) facts.push(`${c.source}: vectors left out: ${c.skipped_vectors.join(', ')}`);
  return facts;
}

/** A link to the job that holds the way out (the fix "job": the job that created a target). */
const jobLink = (id) => h('a', { href: `#/jobs/${encodeURIComponent(id)}` }, `Open job ${id}`);

function migrateStep() {
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
        h('td', null, [c.primary_key.name, ...c.vectors.map((v) => v.field)].join(', ')))))),
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
