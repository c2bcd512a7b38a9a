// wizard_profile.js - what the plan's profile (when the server sends one: `profile` of a planned
// collection) says of its payload keys, for the Schema step's typed fields: the table of keys
// (types seen, share of points that have the key, nulls, longest string, integer range, longest
// array), the keys it saw, and which field types a key's values allow. Without a profile every
// type is allowed; fields this console does not know are ignored.

import { h, fmtInt } from './util.js';

/** The field types a --field spec names. */
export const TYPES = ['INT64', 'DOUBLE', 'BOOL', 'VARCHAR', 'JSON', 'TIMESTAMPTZ', 'GEOMETRY', 'ARRAY_INT64', 'ARRAY_DOUBLE', 'ARRAY_BOOL', 'ARRAY_VARCHAR'];

/** The profile's keys as [{key, ...facts}] (the plan has them as an object keyed by payload key). */
function keysOf(c) {
  const k = c.profile && c.profile.keys;
  if (Array.isArray(k)) return k.filter((x) => x && typeof x.key === 'string');
  if (k && typeof k === 'object') return Object.entries(k).map(([key, v]) => ({ ...(v && typeof v === 'object' ? v : {}), key }));
  return [];
}

/** The payload keys the profile saw. */
export const profileKeys = (c) => keysOf(c).map((k) => k.key);

/** The profile's types of a key's values (array elements: elem), null not counted. */
const seen = (list) => (Array.isArray(list) ? list.filter((t) => t !== 'null') : []);

/** The field types a key's values allow (any value of the key fits it; the others follow the
 *  misfit policy), JSON always; every type without a profile or with a type word not known. */
export function typesAllowed(c, key) {
  const k = keysOf(c).find((x) => x.key === key);
  const t = seen(k?.types);
  const known = ['bool', 'int', 'float', 'string', 'array', 'object'];
  if (!t.length || t.some((x) => !known.includes(x))) return TYPES;
  const e = seen(k.elem_types);
  const fits = {
    INT64: t.includes('int'),
    DOUBLE: t.includes('int') || t.includes('float'),
    BOOL: t.includes('bool'),
    VARCHAR: t.includes('string'),
    /* TIMESTAMPTZ and GEOMETRY are the plan's proposal for a datetime / geo index (the row
       keeps its own type among the choices); not offered from value types alone */
    JSON: true,
  };
  const arr = t.includes('array');
  const elem = (x) => arr && (!e.length || e.some((y) => x.includes(y)));
  fits.ARRAY_INT64 = elem(['int']);
  fits.ARRAY_DOUBLE = elem(['int', 'float']);
  fits.ARRAY_BOOL = elem(['bool']);
  fits.ARRAY_VARCHAR = elem(['string']);
  return TYPES.filter((x) => fits[x]);
}

const pct = (n, d) => (d ? `${Math.round((100 * n) / d)} %` : '—');
const numOr = (v) => (typeof v === 'number' ? fmtInt(v) : '—');

function intRange(k) {
  const lo = k.int_min ?? k.min;
  const hi = k.int_max ?? k.max;
  return typeof lo === 'number' && typeof hi === 'number' ? `${fmtInt(lo)} … ${fmtInt(hi)}` : '—';
}

function distinct(k) {
  if (typeof k.distinct !== 'number') return '—';
  return k.distinct_over ? `more than ${fmtInt(k.distinct)}` : fmtInt(k.distinct);
}

const mb = (n) => (n < 1e6 ? `${Math.max(1, Math.round(n / 1e3))} kB` : `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)} MB`);

/** The profile's estimate of the copy in one line, or null. */
function estimate(p) {
  const e = p.estimate || p.est;
  if (!e || typeof e !== 'object') return null;
  const parts = [];
  if (typeof e.read_bytes === 'number') parts.push(`reads ${mb(e.read_bytes)}`);
  if (typeof e.write_bytes === 'number') parts.push(`writes ${mb(e.write_bytes)}`);
  if (typeof e.scalar_bytes === 'number' && typeof e.meta_bytes === 'number') parts.push(`typed fields ${mb(e.scalar_bytes)}, $meta ${mb(e.meta_bytes)}`);
  if (typeof e.copy_s === 'number') parts.push(`copy about ${e.copy_s < 1 ? 'a second' : `${Math.round(e.copy_s)} s`} at the rate measured`);
  return parts.length ? h('p', { class: 'muted' }, `Estimate for the whole collection: ${parts.join('; ')}.`) : null;
}

/** The profile's table of payload keys, or null without a profile. */
export function profileTable(c) {
  const keys = keysOf(c);
  if (!keys.length) return null;
  const p = c.profile;
  const points = typeof p.points === 'number' ? p.points : 0;
  const cols = ['Payload key', 'Types', 'Present', 'Nulls', 'Longest string (bytes)', 'Integer range', 'Longest array', 'Distinct values'];
  return h('details', { class: 'profile' },
    h('summary', null, `Payload profile: ${fmtInt(points)} points read${p.full ? ' (all of them)' : ' (a sample)'}`),
    h('table', { class: 'grid' },
      h('caption', { class: 'sr-only' }, `Payload profile of ${c.source}`),
      h('thead', null, h('tr', null, cols.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, keys.map((k) => h('tr', null,
        h('td', null, h('code', null, k.key)),
        h('td', null, [...(Array.isArray(k.types) ? k.types : []), ...(Array.isArray(k.elem_types) && k.elem_types.length ? [`elements: ${k.elem_types.join(', ')}`] : [])].join(', ') || '—'),
        h('td', { class: 'num' }, typeof k.present === 'number' ? pct(k.present, points) : '—'),
        h('td', { class: 'num' }, numOr(k.nulls)),
        h('td', { class: 'num' }, numOr(k.str_max)),
        h('td', { class: 'num' }, intRange(k)),
        h('td', { class: 'num' }, numOr(k.arr_max)),
        h('td', { class: 'num' }, distinct(k)))))),
    estimate(p));
}
