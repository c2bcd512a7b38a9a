// util.js - small helpers shared by the console's views: a DOM builder, number/time
// formatting, Milvus name validation (mirrors docs/user/mapping.md) and status badges.

/** h('div', {class: 'x', onclick: fn}, child, ...) -> Element. Children may be strings,
 *  nodes, arrays, or null/false (skipped). Attributes set to null/false are left out. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replace the content of el with the given children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let idSeq = 0;
/** A unique DOM id for label/for and aria-describedby pairs. */
export const uid = (p = 'f') => `${p}-${++idSeq}`;

export const fmtInt = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));

export function fmtRate(r) {
  if (!r) return '';
  return `${Number(r) >= 100 ? Math.round(r).toLocaleString('en-US') : Number(r).toFixed(1)} points/s`;
}

export function fmtTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** "about 3 min left" for `left` points at `rate` points/s; '' when it cannot be told. */
export function fmtEta(left, rate) {
  if (!(rate > 0) || !(left > 0)) return '';
  const s = left / rate;
  return `about ${s < 1 ? '1 s' : fmtDuration(s * 1000)} left`;
}

// ---- Milvus names ---------------------------------------------------------------------

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'like', 'exists', 'true', 'false', 'null',
  'json_contains', 'json_contains_all', 'json_contains_any', 'array_contains',
  'array_contains_all', 'array_contains_any', 'array_length', 'text_match', 'phrase_match',
  'random_sample', '$meta']);

/** null when `name` is a valid Milvus collection (or, with field=true, field) name, else why. */
export function nameError(name, { field = false } = {}) {
  if (!name) return 'A name is required.';
  if (name.length > 255) return `At most 255 characters (this one has ${name.length}).`;
  if (!NAME_RE.test(name)) {
    return /^[0-9]/.test(name)
      ? 'Must not start with a digit.'
      : 'Use only letters, digits and _ (and start with a letter or _).';
  }
  if (field && KEYWORDS.has(name.toLowerCase())) return `"${name}" is a reserved word in Milvus filter expressions.`;
  return null;
}

export function utf8Length(s) {
  return new TextEncoder().encode(s).length;
}

// ---- statuses -------------------------------------------------------------------------

export const STATUS_LABEL = {
  PENDING: 'Pending', IN_PROGRESS: 'In Progress', SUCCESSFUL: 'Successful',
  FAILED: 'Failed', CANCELLED: 'Canceled', CANCELED: 'Canceled',
};

export const isActive = (job) => (job.status === 'PENDING' || job.status === 'IN_PROGRESS') && !job.orphaned;

/** A status badge: text is the label (e.g. "In Progress"), colour from the status. */
export function badge(status, label, extra) {
  const text = label || STATUS_LABEL[status] || status;
  return h('span', { class: `badge badge-${String(status).toLowerCase()}` }, text, extra ? ` · ${extra}` : null);
}

/** A labelled progress bar with "written / total (pct %)". A total of 0 is no
 *  percentage: "nothing to copy" when nothing was written, else the count alone (the
 *  total is not known yet), with an empty bar either way. */
export function progress(written, total, label) {
  let pct = 0;
  let text;
  let valueText;
  if (total) {
    pct = Math.min(100, (100 * written) / total);
    const pctText = `${pct >= 99.95 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)}%`;
    text = `${fmtInt(written)} / ${fmtInt(total)} (${pctText})`;
    valueText = `${fmtInt(written)} of ${fmtInt(total)} points (${pctText})`;
  } else {
    text = written ? `${fmtInt(written)} points written` : '0 points: nothing to copy';
  }
  return h('div', { class: 'progress-wrap' },
    h('div', {
      class: 'progress', role: 'progressbar', 'aria-label': label,
      'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': total ? Math.round(pct) : null,
      'aria-valuetext': valueText || text,
    }, h('div', { class: 'progress-fill', style: `width:${pct}%` })),
    h('span', { class: 'progress-text' }, text));
}

/** null when v is empty (left to the default) or a whole number in lo..hi, else why not. */
export function intError(v, lo, hi) {
  if (v === null || v === undefined || v === '') return null;
  if (!Number.isInteger(Number(v))) return 'A whole number is needed.';
  if (Number(v) < lo || Number(v) > hi) return `From ${lo} to ${hi}.`;
  return null;
}
