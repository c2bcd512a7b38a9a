// api.js - the console's only door to `vmigrate serve`: JSON requests to /api/v1, errors
// turned into ApiError with the server's code and message. Secrets travel only in POST
// bodies (never in URLs) and are never logged. When `vmigrate serve --api-token` is used,
// the token entered in the console is kept in memory and sent as a Bearer header.

export class ApiError extends Error {
  /** fix: the way out as the server's word ("target_name", "job", ...) or null; fixArg what it
   *  needs (a job id for "job"); hint: the server's plain words for it. */
  constructor(code, message, status, { fix = null, fixArg = null, hint = null } = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.fix = fix;
    this.fixArg = fixArg;
    this.hint = hint;
  }
}

let apiToken = null;
let onTokenNeeded = () => {};

/** The token of `vmigrate serve --api-token` (memory only); null to forget it. */
export function setApiToken(t) { apiToken = t || null; }
/** fn(message) is called when the server asks for its API token (401 + WWW-Authenticate). */
export function whenTokenNeeded(fn) { onTokenNeeded = fn; }

async function call(method, path, body) {
  let res;
  const headers = body === undefined ? {} : { 'Content-Type': 'application/json' };
  if (apiToken) headers.Authorization = `Bearer ${apiToken}`;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError('network', 'Cannot reach vmigrate serve (is it still running?)', 0);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data && data.error;
    if (res.status === 401 && /bearer/i.test(res.headers.get('WWW-Authenticate') || '')) {
      // the console's own API token, not a Qdrant/Milvus credential
      onTokenNeeded(apiToken ? 'The API token was not accepted.' : (e?.message || 'This server needs an API token.'));
      throw new ApiError('api_token', 'vmigrate serve needs its API token (enter it at the top of the page).', 401);
    }
    throw new ApiError(e?.code || `http_${res.status}`,
      e?.message || `${method} ${path} failed: HTTP ${res.status}`, res.status,
      { fix: e?.fix || null, fixArg: e?.fix_arg || null, hint: e?.hint || null });
  }
  if (data === null) throw new ApiError('bad_response', `${method} ${path}: the server sent no JSON`, res.status);
  return data;
}

export const api = {
  health: () => call('GET', '/health'),
  checkSource: (source) => call('POST', '/source/check', { source }),
  checkTarget: (target) => call('POST', '/target/check', { target }),
  collections: (source) => call('POST', '/source/collections', { source }),
  /** edits: [{kind: 'target-name'|'skip-vector'|'field'|..., value}] as the CLI's flags take
   *  them; profile: true (each collection's payloads profiled first) or absent. */
  plan: (source, target, collections, options, edits = [], profile = undefined) =>
    call('POST', '/plan', { source, target, collections, options, edits, ...(profile ? { profile } : {}) }),
  createJob: (source, target, plan, options) => call('POST', '/jobs', { source, target, plan, options }),
  jobs: (status) => call('GET', `/jobs${status ? `?status=${encodeURIComponent(status)}` : ''}`),
  job: (id) => call('GET', `/jobs/${encodeURIComponent(id)}`),
  /** The job with the live index build of its finished collections, asked of Milvus. */
  jobIndexLive: (id) => call('GET', `/jobs/${encodeURIComponent(id)}?index=live`),
  logs: (id, after) => call('GET', `/jobs/${encodeURIComponent(id)}/logs?after=${after || 0}`),
  action: (id, action) => call('POST', `/jobs/${encodeURIComponent(id)}/${action}`, {}),
  /** Retry the failed and cancelled collections with changes: {null_values, payload_conflict,
   *  rejects, max_vector_fields, index, collections: {SRC: {target_name, skip_vectors,
   *  null_values, payload_conflict, index}}}. */
  retry: (id, changes) => call('POST', `/jobs/${encodeURIComponent(id)}/retry`, changes || {}),
  /** Compare the finished collections again: {collections: [{source, target, verdict, ...}]}. */
  verify: (id) => call('POST', `/jobs/${encodeURIComponent(id)}/verify`, {}),
  /** Start comparing every point (in the background): {job, status: "running", diff, poll}. */
  verifyFull: (id) => call('POST', `/jobs/${encodeURIComponent(id)}/verify`, { full: true }),
  /** How far the full verification is: {status: none|running|done, progress, verdict, collections}. */
  verifyStatus: (id) => call('GET', `/jobs/${encodeURIComponent(id)}/verify`),
};
