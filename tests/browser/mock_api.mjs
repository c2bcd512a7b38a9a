// mock_api.mjs - a tiny stand-in for `vmigrate serve` used by the console's fast UI tests
// (tests/browser/ui_mock.test.mjs): serves web/ and implements the /api/v1 contract with
// canned Qdrant collections, plans made like vmigrate makes them, and jobs that progress on
// a clock. It records every request (method, url, body) so tests can check where secrets go.
// A job's collection given `fail` ({at, error, error_code, error_fix, error_fix_arg,
// error_field, error_hint, cure, after}) fails once `at` of its points are written, until a
// retry's changes include every member of `cure` ({plain: true}: a retry without changes,
// {resumed: true}: a resume);
// `after` is merged into its state when it then succeeds. `drift` rows go missing from what
// POST /jobs/{id}/verify counts. holdCancel(true) keeps a cancelled job running (cancel_requested) until
// holdCancel(false), as a runner that has not reached its next checkpoint yet.
//
//   node tests/browser/mock_api.mjs [port]     # run it by hand, then open the printed URL

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

export const MOCK = {
  qdrantUrl: 'http://qdrant.test:6333',
  qdrantKey: 'qdrant-secret-key',
  milvusUrl: 'http://milvus.test:19530',
  milvusToken: 'root:Milvus-secret',
};

const COLLECTIONS = [
  { name: 'dg_single_cosine_768', unnamed: true, vectors: [{ name: '', size: 768, distance: 'Cosine', datatype: 'float32' }], status: 'green', points_approx: 500 },
  {
    name: 'dg_named_mixed', unnamed: false, status: 'green', points_approx: 300,
    vectors: [{ name: 'dense32', size: 32, distance: 'Euclid', datatype: 'float32' },
      { name: 'dense64', size: 64, distance: 'Dot', datatype: 'float32' },
      { name: 'sparse', sparse: true, datatype: 'float32' }],
  },
  { name: 'dg_manhattan', unnamed: true, vectors: [{ name: '', size: 16, distance: 'Manhattan', datatype: 'float32' }], status: 'green', points_approx: 50 },
  { name: 'existing', unnamed: true, vectors: [{ name: '', size: 8, distance: 'Dot', datatype: 'float16' }], status: 'green', points_approx: 20 },
];
const METRIC = { Cosine: 'COSINE', Dot: 'IP', Euclid: 'L2' };

function planFor(c, options, edits = []) {
  const out = {
    source: c.name, target: c.name,
    description: `Migrated by vmigrate from Qdrant collection '${c.name}' at ${MOCK.qdrantUrl}`,
    primary_key: { name: 'id', type: 'Int64' }, vectors: [], skipped_vectors: [],
    dynamic_field: true, partition_key: false, auto_id: false,
    null_values: options.null_values || 'fail', payload_conflict: options.payload_conflict || 'fail',
    index: options.index === 'hnsw' ? 'HNSW' : 'AUTOINDEX', notes: [],
    source_count: c.points_approx, target_exists: false, error: null,
  };
  const bad = c.vectors.find((v) => v.distance === 'Manhattan');
  if (bad) {
    out.error = { code: 'schema', message: `collection '${c.name}': the unnamed vector uses Manhattan distance, which Milvus does not support` };
    return out;
  }
  for (const v of c.vectors) {
    out.vectors.push(v.sparse
      ? { source: v.name, field: v.name || 'vector', type: 'SPARSE_FLOAT_VECTOR', metric: 'IP', source_datatype: 'float32' }
      : { source: v.name, field: v.name || 'vector', type: 'FLOAT_VECTOR', dim: v.size, metric: METRIC[v.distance], source_datatype: v.datatype, hnsw: { m: 16, ef_construct: 100 } });
    if (v.datatype === 'float16') out.notes.push(`vector '${v.name || 'vector'}' is float16 in Qdrant: converted exactly to float32`);
  }
  if (c.name === 'existing') {
    out.target_exists = true;
    out.error = { code: 'exists', message: "target collection 'existing' already exists in Milvus (use --target-name existing=NEW, or drop it)" };
  }
  // a test's own collection plans its typed payload fields itself (from the options and edits)
  if (c.typedPlan) Object.assign(out, c.typedPlan(options, edits.filter((e) => e.value.startsWith(`${c.name}.`))));
  return out;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function err(res, status, code, message) {
  send(res, status, { error: { code, message } });
}
function send(res, status, obj) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(obj));
}

/** Start the mock on 127.0.0.1:port (0 = any); resolves to {url, requests, jobs, setSpeed, close}.
 *  apiToken: require 'Authorization: Bearer <apiToken>' on /api/ like `vmigrate serve --api-token`.
 *  extra: more source collections, each optionally with typedPlan(options, edits) -> the plan's
 *  typed-field members (typed_fields, partition_key, profile, notes, error...). */
export function startMock({ port = 0, pointsPerSecond = 400, apiToken = null, extra = [] } = {}) {
  const collections = [...COLLECTIONS, ...extra];
  const requests = [];
  const jobs = new Map();
  let seq = 0;
  let speed = pointsPerSecond;
  let cancelHeld = false;

  function checkSource(src) {
    if (!src || !src.url) return { code: 'usage', message: 'source.url is required' };
    if (/:6334\/?$/.test(src.url)) return { code: 'connect', message: `cannot reach Qdrant at ${src.url}: port 6334 is Qdrant's gRPC port; vmigrate reads the REST API (usually port 6333)` };
    if (src.url.replace(/\/$/, '') !== MOCK.qdrantUrl) return { code: 'connect', message: `cannot reach Qdrant at ${src.url}: connection refused` };
    if (src.api_key !== MOCK.qdrantKey) return { code: 'auth', message: 'Qdrant refused the API key (HTTP 401)' };
    return null;
  }
  function checkTarget(dst) {
    if (!dst || !dst.url) return { code: 'usage', message: 'target.url is required' };
    if (dst.url.replace(/\/$/, '') !== MOCK.milvusUrl) return { code: 'connect', message: `cannot reach Milvus at ${dst.url}: connection refused` };
    if (dst.token !== MOCK.milvusToken) return { code: 'auth', message: 'Milvus refused the token' };
    return null;
  }

  function advance(j) {
    const now = Date.now();
    if (j.status === 'PENDING' && now - j.created_ms > 300) {
      j.status = 'IN_PROGRESS';
      j.started_ms = now;
      j.last_ms = now;
      log(j, 'info', null, 'job started');
    }
    if (j.status !== 'IN_PROGRESS') return;
    j.run_ms += now - j.last_ms;
    if (j.cancel_requested && !cancelHeld) {
      j.status = 'CANCELLED';
      j.finished_ms = now;
      for (const c of j.collections) if (c.status === 'IN_PROGRESS' || c.status === 'PENDING') { c.status = 'CANCELLED'; c.points_per_s = 0; }
      log(j, 'warn', null, 'job cancelled');
      return;
    }
    let budget = Math.round(((now - j.last_ms) / 1000) * speed);
    j.last_ms = now;
    for (const c of j.collections) {
      if (c.status === 'SUCCESSFUL' || c.status === 'FAILED') continue;
      c.status = 'IN_PROGRESS';
      c.phase = 'copying';
      c.points_per_s = speed;
      c.state.created = true;
      const f = c.fail && !Object.entries(c.fail.cure || {}).every(([k, v]) => JSON.stringify(c.changes[k]) === JSON.stringify(v));
      const stop = f ? Math.floor(c.total * (c.fail.at ?? 0.5)) : c.total;
      const n = Math.max(0, Math.min(budget, stop - c.written));
      c.written += n;
      budget -= n;
      if (f && c.written >= stop) {
        c.status = 'FAILED';
        c.points_per_s = 0;
        for (const k of ['error', 'error_code', 'error_fix', 'error_fix_arg', 'error_field', 'error_hint']) c[k] = c.fail[k] ?? null;
        log(j, 'error', c.source, c.error);
        continue;
      }
      if (c.written >= c.total) {
        if (c.fail) Object.assign(c.state, c.fail.after || {});
        c.state.loaded = true;
        if (c.source === 'fail_me') {
          c.status = 'FAILED';
          c.error = 'point 7: payload key "id" equals a schema field';
          log(j, 'error', c.source, c.error, 7);
        } else {
          c.status = 'SUCCESSFUL';
          c.phase = 'done';
          c.points_per_s = 0;
          c.verify = { ran: true, source_count: c.total, target_count: c.total, sampled: Math.min(100, c.total), missing: 0, vector_diffs: 0, payload_diffs: 0, rejected: 0, first_diff: '' };
          // the index build: waited for with options.wait_index, else a third done at the end
          c.index_total = c.total;
          c.index_built = !!j.options.wait_index;
          c.index_rows = c.index_built ? c.total : Math.floor(c.total / 3);
          log(j, 'info', c.source, `done: ${c.total} points, verified`);
        }
      }
      if (budget <= 0) break;
    }
    if (j.collections.every((c) => c.status === 'SUCCESSFUL' || c.status === 'FAILED')) {
      j.status = j.collections.some((c) => c.status === 'FAILED') ? 'FAILED' : 'SUCCESSFUL';
      j.finished_ms = now;
      log(j, 'info', null, `job ${j.status.toLowerCase()}`);
    }
  }
  function log(j, level, collection, message, point_id = null) {
    j.logs.push({ seq: ++seq, ts_ms: Date.now(), level, collection, point_id, message });
  }
  const LABEL = { PENDING: 'Pending', IN_PROGRESS: 'In Progress', SUCCESSFUL: 'Successful', FAILED: 'Failed', CANCELLED: 'Canceled' };
  // a job created with options.tasks >= 2 runs as range tasks (vmigrate's job_task.c): a
  // setup, N ranges sharing the collection's progress (range 1 taken over once from a worker
  // that died), a finish; two mock workers hold them
  function tasksOf(j) {
    const n = Number(j.options?.tasks || 0);
    if (n < 2) return undefined;
    const out = [];
    for (const c of j.collections) {
      const started = c.status !== 'PENDING';
      const done = c.status === 'SUCCESSFUL';
      out.push({ collection: c.source, task: 0, kind: 'setup', status: started ? 'SUCCESSFUL' : 'PENDING', owner: started ? 'mock-a:101/0' : null, attempts: started ? 1 : 0, reclaims: 0, read: 0, written: 0, error: null });
      const share = Math.ceil(c.total / n);
      for (let i = 1; i <= n; i++) {
        const w = Math.max(0, Math.min(share, c.written - share * (i - 1)));
        out.push({
          collection: c.source, task: i, kind: 'range', owner: started ? `mock-${i % 2 ? 'a' : 'b'}:${100 + i}/1` : null,
          status: !started ? 'PENDING' : done || w >= share ? 'SUCCESSFUL' : 'IN_PROGRESS',
          attempts: started ? (i === 1 ? 2 : 1) : 0, reclaims: started && i === 1 ? 1 : 0, read: w, written: w, error: null,
        });
      }
      out.push({ collection: c.source, task: 100000, kind: 'finish', status: done ? 'SUCCESSFUL' : 'PENDING', owner: done ? 'mock-b:102/0' : null, attempts: done ? 1 : 0, reclaims: 0, read: 0, written: 0, error: null });
    }
    return out;
  }

  function jobJson(j, withPlan) {
    advance(j);
    const { logs, plan, last_ms, ...rest } = j; // eslint-disable-line no-unused-vars
    const out = {
      ...rest, label: LABEL[j.status],
      total: j.collections.reduce((s, c) => s + c.total, 0),
      written: j.collections.reduce((s, c) => s + c.written, 0),
      collections: j.collections.map(({ fail, changes, drift, retried, ...c }) => ({ ...c, label: LABEL[c.status], state: { ...c.state } })), // eslint-disable-line no-unused-vars
    };
    const tasks = tasksOf(j);
    if (tasks) out.tasks = tasks;
    if (withPlan) out.plan = plan;
    return out;
  }

  async function api(req, res, url, body) {
    const p = url.pathname;
    if (req.method === 'GET' && p === '/api/v1/health') return send(res, 200, { status: 'ok', version: '0.1.0-mock' });
    if (req.method === 'POST' && p === '/api/v1/source/check') {
      const e = checkSource(body.source);
      return e ? err(res, 400, e.code, e.message) : send(res, 200, { ok: true, version: '1.19.0' });
    }
    if (req.method === 'POST' && p === '/api/v1/target/check') {
      const e = checkTarget(body.target);
      return e ? err(res, 400, e.code, e.message) : send(res, 200, { ok: true, version: 'v2.6.0-lite' });
    }
    if (req.method === 'POST' && p === '/api/v1/source/collections') {
      const e = checkSource(body.source);
      return e ? err(res, 400, e.code, e.message) : send(res, 200, { collections });
    }
    if (req.method === 'POST' && p === '/api/v1/plan') {
      const e = checkSource(body.source) || checkTarget(body.target);
      if (e) return err(res, 400, e.code, e.message);
      // like api_get_map_opts: an edit that is not KEY=VALUE fails the whole request
      const badEdit = (body.edits || []).findIndex((x) => x.kind === 'rename' && !/^[^=]+\.[^=]+=[^=]+$/.test(x.value));
      if (badEdit >= 0) return err(res, 400, 'usage', `edits[${badEdit}]: --rename expects COLLECTION.FIELD=NEW_NAME, got '${body.edits[badEdit].value}'`);
      const out = [];
      for (const name of body.collections || []) {
        const c = collections.find((x) => x.name === name);
        if (!c) return err(res, 404, 'not_found', `collection '${name}' not found in Qdrant`);
        out.push(planFor(c, body.options || {}, body.edits || []));
      }
      return send(res, 200, { version: 1, collections: out });
    }
    if (req.method === 'POST' && p === '/api/v1/jobs') {
      const e = checkSource(body.source) || checkTarget(body.target);
      if (e) return err(res, 400, e.code, e.message);
      const asked = body.plan?.collections || [];
      if (!asked.length) return err(res, 400, 'usage', 'the plan has no collections');
      for (const c of asked) {
        if (!NAME_RE.test(c.target || '')) return err(res, 400, 'usage', `plan for '${c.source}': invalid target name '${c.target}'`);
        if (c.target === 'existing') return err(res, 400, 'exists', `target collection '${c.target}' already exists in Milvus`);
      }
      // like vmig_job_submit: a collection refused when the plan is checked again (here: the
      // target "appears_later" appeared after the review) is left out and listed
      const refused = asked.filter((c) => c.target === 'appears_later').map((c) => ({
        source: c.source, code: 'exists', message: `collection '${c.source}': target collection '${c.target}' already exists in Milvus`,
      }));
      const cols = asked.filter((c) => c.target !== 'appears_later');
      if (!cols.length) return err(res, 422, refused[0].code, refused[0].message);
      const id = `j${Date.now().toString(36)}${jobs.size}`;
      const j = {
        id, status: 'PENDING', created_ms: Date.now(), started_ms: null, finished_ms: null, heartbeat_ms: null,
        source: { url: body.source.url, ca_file: null, insecure: false },
        target: { url: body.target.url, db: body.target.db || 'default', ca_file: null, insecure: false },
        secrets_stored: !!body.options?.store_secrets, options: body.options || {}, owner: null,
        cancel_requested: false, orphaned: false, error: null, plan: body.plan, logs: [], run_ms: 0,
        collections: cols.map((c) => ({
          source: c.source, target: c.target, status: 'PENDING', phase: 'pending', total: c.source_count || 0, read: 0, written: 0, bytes: 0, points_per_s: 0, started_ms: null, finished_ms: null, index_built: false, index_rows: 0, index_total: 0, verify: null,
          error: null, error_code: null, error_fix: null, error_fix_arg: null, error_field: null, error_point: null, error_hint: null,
          state: { created: false, loaded: false, nulls_dropped: 0, rejected: 0 }, changes: {},
        })),
      };
      jobs.set(id, j);
      log(j, 'info', null, `job created: ${cols.length} collection(s)`);
      const held = cols.map((c) => ({ source: c.source, target: c.target, points: c.source_count || 0 }));
      return send(res, 201, { id, status: 'PENDING', refused, collections: held, points: held.reduce((a, c) => a + c.points, 0) });
    }
    if (req.method === 'GET' && p === '/api/v1/jobs') {
      const st = (url.searchParams.get('status') || '').toUpperCase().replace('CANCELED', 'CANCELLED');
      const list = [...jobs.values()].reverse().map((j) => jobJson(j, false)).filter((j) => !st || j.status === st);
      return send(res, 200, { jobs: list });
    }
    const m = p.match(/^\/api\/v1\/jobs\/([^/]+)(?:\/(logs|cancel|resume|retry|restart|verify))?$/);
    if (m) {
      const j = jobs.get(decodeURIComponent(m[1]));
      if (!j) return err(res, 404, 'not_found', `no job '${m[1]}'`);
      if (req.method === 'GET' && !m[2]) {
        const out = jobJson(j, true);
        if (url.searchParams.get('index') === 'live') { // "Milvus" has finished every build since
          out.collections = out.collections.map((c) => (c.status === 'SUCCESSFUL' && !c.index_built && c.index_total
            ? { ...c, index_rows: c.index_total, index_built: true, index_live: true } : c));
        }
        return send(res, 200, out);
      }
      if (req.method === 'GET' && m[2] === 'verify') { // the full verification's progress
        const f = j.vfull;
        if (!f) return send(res, 200, { job: j.id, status: 'none' });
        const done = j.collections.filter((c) => c.status === 'SUCCESSFUL');
        const total = done.reduce((s, c) => s + c.total, 0);
        if (++f.polls < 3) {
          return send(res, 200, { job: j.id, status: 'running', diff: f.diff, progress: { collection: done[0].source, compared: Math.round(total * f.polls / 3), total, points_per_s: 1000, eta_s: 2 } });
        }
        const colls = done.map((c) => {
          const lost = c.drift || 0;
          return { source: c.source, target: c.target, verdict: lost ? 'different' : 'same', source_count: c.total, target_count: c.written - lost, compared: c.total, missing: lost, extra: 0, different: 0, rejected: 0, resumed: false, diff_file: `${f.diff}/vmigrate-verify-${j.id}-${c.source}.jsonl`, error: null };
        });
        return send(res, 200, { job: j.id, status: 'done', verdict: colls.some((c) => c.missing) ? 'different' : 'same', collections: colls, error: null });
      }
      if (req.method === 'GET' && m[2] === 'logs') {
        const after = Number(url.searchParams.get('after') || 0);
        const got = j.logs.filter((l) => l.seq > after).slice(0, 100);
        return send(res, 200, { logs: got, next: got.length ? got[got.length - 1].seq : after });
      }
      if (req.method === 'POST' && m[2]) {
        advance(j);
        const a = m[2];
        if (a === 'verify' && body && body.full) {
          j.vfull = { polls: 0, diff: '/srv/diffs' };
          return send(res, 202, { job: j.id, status: 'running', diff: j.vfull.diff, poll: `/api/v1/jobs/${j.id}/verify` });
        }
        if (a === 'verify') {
          const done = j.collections.filter((c) => c.status === 'SUCCESSFUL');
          if (!done.length) return err(res, 409, 'usage', `job '${j.id}' has no finished collection to verify`);
          return send(res, 200, {
            collections: done.map((c) => {
              const target = c.written - (c.drift || 0);
              return { source: c.source, target: c.target, verdict: target === c.total ? 'same' : 'different', source_count: c.total, target_count: target, sampled: Math.min(100, c.total), missing: c.total - target, vector_diffs: 0, payload_diffs: 0,
                error: target === c.total ? null : `collection '${c.target}': ${target} points in Milvus, ${c.total} in Qdrant` };
            }),
          });
        }
        if (a === 'cancel') {
          if (j.status !== 'PENDING' && j.status !== 'IN_PROGRESS') return err(res, 409, 'usage', `job '${j.id}' has already ended (${LABEL[j.status]})`);
          j.cancel_requested = true;
          if (j.status === 'PENDING') {
            j.status = 'IN_PROGRESS'; // ends at the next advance()
            j.last_ms = Date.now();
          }
          advance(j);
          return send(res, j.status === 'CANCELLED' ? 200 : 202, jobJson(j, false));
        } else {
          if (j.status === 'IN_PROGRESS' || (a === 'retry' && j.status !== 'FAILED' && j.status !== 'CANCELLED')) return err(res, 409, 'usage', `job '${j.id}' is ${LABEL[j.status]}: nothing to ${a}`);
          if (a === 'retry') j.retries = (j.retries || []).concat([body]);
          for (const c of j.collections) {
            if (a === 'restart') { c.written = 0; c.verify = null; c.state.created = false; c.state.loaded = false; }
            if (c.status !== 'SUCCESSFUL' || a === 'restart') {
              if (a === 'retry') {
                const ch = { null_values: body.null_values, payload_conflict: body.payload_conflict, rejects: body.rejects, max_vector_fields: body.max_vector_fields, index: body.index, ...(body.collections?.[c.source] || {}) };
                for (const [k, v] of Object.entries(ch)) if (v !== undefined) c.changes[k] = v;
                if (ch.target_name) c.target = ch.target_name;
                c.retried = (c.retried || 0) + 1;
                if (!Object.keys(body).length) c.changes.plain = true; // a retry without changes
              }
              if (a === 'resume') c.changes.resumed = true;
              c.status = 'PENDING'; c.phase = 'pending';
              for (const k of ['error', 'error_code', 'error_fix', 'error_fix_arg', 'error_field', 'error_point', 'error_hint']) c[k] = null;
            }
          }
          j.cancel_requested = false;
          j.status = 'PENDING';
          j.finished_ms = null;
          log(j, 'info', null, `job ${a}ed`);
        }
        return send(res, 200, jobJson(j, false));
      }
    }
    return err(res, 404, 'not_found', `no route ${req.method} ${p}`);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let raw = '';
    req.on('data', (d) => { raw += d; });
    req.on('end', async () => {
      let body = {};
      if (raw) {
        try { body = JSON.parse(raw); } catch { return err(res, 400, 'usage', 'the body is not JSON'); }
      }
      requests.push({ method: req.method, url: req.url, body, authorization: req.headers.authorization || null });
      if (url.pathname.startsWith('/api/')) {
        if (apiToken && req.headers.authorization !== `Bearer ${apiToken}`) {
          res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer' });
          return res.end(JSON.stringify({ error: { code: 'auth', message: "this server needs an API token: send 'Authorization: Bearer <token>'" } }));
        }
        return api(req, res, url, body);
      }
      const rel = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
      const file = path.resolve(WEB, rel);
      if (!file.startsWith(WEB + path.sep) || !fs.existsSync(file)) { res.writeHead(404); return res.end('not found'); }
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
    });
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        requests, jobs,
        setSpeed: (pps) => { speed = pps; },
        holdCancel: (on) => { cancelHeld = !!on; },
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const m = await startMock({ port: Number(process.argv[2] || 0) });
  console.log(`mock vmigrate serve at ${m.url}  (Qdrant ${MOCK.qdrantUrl} key ${MOCK.qdrantKey}; Milvus ${MOCK.milvusUrl} token ${MOCK.milvusToken})`);
}
