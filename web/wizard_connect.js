// wizard_connect.js - step 1 of the "New migration" wizard: the Qdrant and Milvus endpoints
// (URL, API key or token, database, TLS options), each with its connection test, and the
// way on to the Select step once both answer and the source's collections are listed
// (loadCollections, also the Select step's Refresh).

import { api } from './api.js';
import { h, mount, uid } from './util.js';
import { state, go, endpoint } from './wizard_state.js';

let connectMsg = null; // the Connect step's message, cleared once both checks are green

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
      textField('Qdrant URL', ep, 'url', { placeholder: 'http://localhost:6333', hint: 'REST (http(s)://host:6333) or gRPC (grpc(s)://host:6334: about 3× fewer bytes for dense vectors, faster over the internet).', onchange: reset }),
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

export function connectStep() {
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

export async function loadCollections(msgEl) {
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
