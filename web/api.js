// api.js - the console's only door to `vmigrate serve`: JSON requests to /api/v1, errors
// turned into ApiError with the server's code and message. Secrets travel only in POST
// bodies (never in URLs) and are never logged.

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function call(method, path, body) {
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
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
    throw new ApiError(e?.code || `http_${res.status}`,
      e?.message || `${method} ${path} failed: HTTP ${res.status}`, res.status);
  }
  if (data === null) throw new ApiError('bad_response', `${method} ${path}: the server sent no JSON`, res.status);
  return data;
}

export const api = {
  health: () => call('GET', '/health'),
  checkSource: (source) => call('POST', '/source/check', { source }),
  checkTarget: (target) => call('POST', '/target/check', { target }),
  collections: (source) => call('POST', '/source/collections', { source }),
  plan: (source, target, collections, options) =>
    call('POST', '/plan', { source, target, collections, options, edits: [] }),
  createJob: (source, target, plan, options) => call('POST', '/jobs', { source, target, plan, options }),
  jobs: (status) => call('GET', `/jobs${status ? `?status=${encodeURIComponent(status)}` : ''}`),
  job: (id) => call('GET', `/jobs/${encodeURIComponent(id)}`),
  logs: (id, after) => call('GET', `/jobs/${encodeURIComponent(id)}/logs?after=${after || 0}`),
  action: (id, action) => call('POST', `/jobs/${encodeURIComponent(id)}/${action}`, {}),
};
