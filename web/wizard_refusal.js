// wizard_refusal.js - the Schema step's ways out of a refused collection: the way out as the
// plan's `fix` word (fixOf), said in the console's words (fixWords, no CLI flags), the refusal
// banner with its buttons (raise the vector limit, leave the collection out), the "Vectors to
// copy" checkboxes, putting left-out collections back, and the link to a job holding a target.

import { h, uid } from './util.js';
import { state, MAX_VECTOR_LIMIT, render } from './wizard_state.js';
import { replanAndShow, vectorLimit, keptVectors, namedVectors, canChooseVectors } from './wizard_plan.js';

/** The way out of a refusal, as the server's `fix` word; without one (an older server), what
 *  the facts of the plan say: an "exists" code, or more vectors than the limit. */
export function fixOf(c) {
  const e = c.error;
  if (!e) return null;
  if (e.fix) return e.fix;
  if (e.code === 'exists') return 'target_name';
  if (e.code === 'schema' && keptVectors(c) > vectorLimit()) return 'vector_limit';
  if (e.code === 'schema' && e.field) return 'skip_vector';
  return null;
}

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
    case 'typed_field': return 'Change the typed field below, or keep the key in the dynamic field.';
    case 'payload_misfit': return 'Choose how values that do not fit are handled below.';
    default: return c.error.hint ? `${c.error.hint}.` : 'Leave this collection out to migrate the others.';
  }
}

function leaveOut(c) {
  state.selected.delete(c.source);
  state.leftOut = [...new Set([...(state.leftOut || []), c.source])];
  state.plan.collections = state.plan.collections.filter((x) => x !== c);
  render();
}

export function putBack(names) {
  for (const n of names) state.selected.add(n);
  state.leftOut = [];
  replanAndShow();
}

/** "Vectors to copy": one checkbox per named source vector (the CLI's --skip-vector). */
export function vectorChoice(c) {
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

export function refusalBanner(c) {
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

/** A link to the job that holds the way out (the fix "job": the job that created a target). */
export const jobLink = (id) => h('a', { href: `#/jobs/${encodeURIComponent(id)}` }, `Open job ${id}`);
