// wizard_plan.js - the wizard's plan: asking POST /plan for the Milvus schema of the selected
// collections with the options and edits made so far (replan), carrying the edits over into
// each new plan, planning again before a job is made (recheck), and the facts the Schema and
// Migrate steps decide with: which collections can be migrated, the vector limit, the vectors
// kept and the ones that can be chosen.

import { api } from './api.js';
import { nameError } from './util.js';
import { state, DEFAULT_VECTOR_LIMIT, go, render, endpoint } from './wizard_state.js';

/** The plan options as POST /plan takes them (the CLI's flags of the same names). */
function planOptions() {
  const o = { null_values: state.options.null_values, payload_conflict: state.options.payload_conflict, index: state.options.index, payload_misfit: state.options.payload_misfit };
  if (state.options.max_vector_fields !== DEFAULT_VECTOR_LIMIT) o.max_vector_fields = state.options.max_vector_fields;
  return o;
}

/** The edits the server must plan with: vectors left out, each valid target name the user
 *  chose (so the plan says whether that name exists in Milvus), and the typed payload fields
 *  as chosen (each a whole --field spec, so the library checks every choice). */
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
    const t = state.typed.get(n);
    for (const [key, spec] of t?.specs || []) edits.push({ kind: 'field', value: `${n}.${key}=${spec}` });
    for (const [key, name] of t?.names || []) edits.push({ kind: 'rename', value: `${n}.${key}=${name}` });
  }
  return { edits, renamed };
}

/** Plan the selected collections again (after a change of selection, skipped vectors or the
 *  vector limit, and before migrating: a target name may exist by now), keeping the edits. */
export async function replan() {
  const names = (state.collections || []).map((c) => c.name).filter((n) => state.selected.has(n));
  const before = new Map((state.plan?.collections || []).map((c) => [c.source, c]));
  const { edits, renamed } = planEdits(names, before);
  const plan = await api.plan(endpoint('source'), endpoint('target'), names, planOptions(), edits, state.options.profile || undefined);
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

/** A collection can be migrated unless refused; an "exists" refusal is lifted by a new target name. */
export const migratable = (c) => !c.error || (c.error.code === 'exists' && c.target !== c._exists_name);

export const vectorLimit = () => state.options.max_vector_fields || DEFAULT_VECTOR_LIMIT;
/** How many of the source collection's vectors are not left out. */
export const keptVectors = (c) => {
  const src = (state.collections || []).find((x) => x.name === c.source);
  const skips = state.skips.get(c.source) || new Set();
  return (src?.vectors || []).filter((v) => !skips.has(v.name)).length;
};

export const namedVectors = (c) => ((state.collections || []).find((x) => x.name === c.source)?.vectors || []).filter((v) => v.name);
/** Vectors can be chosen when there are two named ones (or one was left out already). */
export const canChooseVectors = (c) => namedVectors(c).length >= 2 || (c.skipped_vectors || []).length > 0;

/** Plan again and return the collections that were to be migrated and no longer can be (a
 *  target name taken in Milvus meanwhile); state.plan is the new plan, edits kept. */
export async function recheck() {
  const wanted = new Set(state.plan.collections.filter(migratable).map((c) => c.source));
  await replan();
  return state.plan.collections.filter((c) => wanted.has(c.source) && !migratable(c));
}

/** Show the schema step with the collections that cannot be migrated as planned. */
export function backToSchema(lost) {
  state.schemaNotice = `${lost.map((c) => c.source).join(', ')} cannot be migrated as planned: see ${lost.length === 1 ? 'its card' : 'their cards'} below. Nothing was started.`;
  go('schema');
}

/** Re-plan after a change that alters the schema (skipped vectors, the vector limit, the
 *  selection); a failure is shown at the top of the step. */
export async function replanAndShow() {
  try {
    await replan();
  } catch (e) {
    state.schemaNotice = `Cannot plan again: ${e.message}`;
  }
  render();
}
