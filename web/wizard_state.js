// wizard_state.js - the shared memory of the "New migration" wizard (web/wizard.js and its
// wizard_*.js steps): the state of every step, the vector-limit defaults, the endpoints as the
// API takes them, and the switching between steps (go, render: the stepper above the current
// step's view; wizard.js registers the views). All of it (including the Qdrant API key and the
// Milvus token) lives in memory only: nothing is written to localStorage/sessionStorage, put in
// a URL, or logged.

import { h, mount } from './util.js';

const STEPS = [
  ['connect', 'Connect'],
  ['select', 'Select collections'],
  ['schema', 'Schema'],
  ['migrate', 'Migrate'],
];

export const DEFAULT_VECTOR_LIMIT = 4; // Milvus's proxy.maxVectorFieldNum by default
export const MAX_VECTOR_LIMIT = 10;

export const state = {
  step: 'connect',
  source: { url: 'http://localhost:6333', api_key: '', ca_file: '', insecure: false },
  target: { url: 'http://localhost:19530', token: '', db: 'default', ca_file: '', insecure: false },
  check: { source: null, target: null }, // null | {busy} | {ok, version} | {error}
  collections: null,                     // source collections (API objects)
  selected: new Set(),
  filter: '',
  plan: null,                            // {collections: [...]} as returned by POST /plan (edited in place)
  // the CLI's plan options: --null-values, --payload-conflict, --index, --max-vector-fields,
  // --payload-misfit, --profile
  options: { null_values: 'fail', payload_conflict: 'fail', payload_prefix: 'payload_', index: 'auto', max_vector_fields: DEFAULT_VECTOR_LIMIT, payload_misfit: 'dynamic', profile: false },
  skips: new Map(),                      // source collection -> Set of vector names left out (--skip-vector)
  // source collection -> {specs: Map payload key -> "TYPE[:opts]" | "dynamic" (--field),
  // names: Map payload key -> Milvus field name (--rename COLL.KEY=NAME)}: typed payload fields
  typed: new Map(),
  jobOptions: { verify_sample: 100, store_secrets: true, wait_index: false, rejects_on: false, rejects: '' },
};

/** The view of each step: key -> function returning its section (filled by wizard.js). */
export const views = {};

let root = null;

/** Where the wizard is drawn (the router's view container). */
export function setRoot(el) {
  root = el;
}

export function go(step) {
  state.step = step;
  render();
  const heading = root.querySelector('h2');
  if (heading) heading.focus();
}

export function render() {
  const idx = STEPS.findIndex(([k]) => k === state.step);
  const stepper = h('nav', { 'aria-label': 'Migration steps', class: 'stepper' },
    h('ol', null, STEPS.map(([key, label], i) => {
      const reachable = i < idx;
      return h('li', { class: i === idx ? 'current' : i < idx ? 'done' : '' },
        reachable
          ? h('button', { type: 'button', class: 'link', onclick: () => go(key) }, `${i + 1}. ${label}`)
          : h('span', { 'aria-current': i === idx ? 'step' : null }, `${i + 1}. ${label}`));
    })));
  const body = views[state.step]();
  mount(root, stepper, body);
}

export function endpoint(side) {
  const ep = state[side];
  const out = { url: ep.url.trim(), ca_file: ep.ca_file.trim() || null, insecure: !!ep.insecure };
  if (side === 'source') out.api_key = ep.api_key || null;
  else { out.token = ep.token || null; out.db = ep.db.trim() || 'default'; }
  return out;
}
