// jobs.js - the Jobs page: the job list (status badges, per-collection progress bars,
// auto-refresh every second while a job runs) and one job's detail view (per-collection
// status, phase, verification, the log tail read incrementally, Cancel/Resume/Retry/Restart).

import { api } from './api.js';
import { h, mount, fmtInt, fmtRate, fmtTime, fmtDuration, badge, progress, isActive, STATUS_LABEL } from './util.js';

const FAST_MS = 1000; // while anything runs
const SLOW_MS = 5000; // otherwise (jobs started from the CLI still show up)

/** A poll loop that stops when the view is left: run() returns the next delay in ms. */
function poller(run) {
  let timer = null;
  let stopped = false;
  const live = () => !stopped; // an answer that arrives after stop() must not be drawn
  const tick = async () => {
    timer = null;
    let delay = SLOW_MS;
    try {
      delay = await run(live);
    } catch {
      delay = SLOW_MS;
    }
    if (!stopped) timer = setTimeout(tick, delay);
  };
  tick();
  return () => { stopped = true; if (timer) clearTimeout(timer); };
}

const jobLabel = (j) => (j.orphaned ? 'Orphaned' : j.label || STATUS_LABEL[j.status] || j.status);
const jobBadge = (j) => badge(j.orphaned ? 'orphaned' : j.status, jobLabel(j));
const rateOf = (c) => c.points_per_s ?? c.rate ?? 0;

function duration(j) {
  if (!j.started_ms) return '—';
  return fmtDuration((j.finished_ms || Date.now()) - j.started_ms);
}

// ---- list ------------------------------------------------------------------------------

let listFilter = '';

/** Mount the job list into `el`; returns a function that stops its polling. */
export function showJobList(el) {
  const tbody = h('tbody');
  const msg = h('div', { class: 'step-msg' });
  const filterId = 'job-status-filter';
  const select = h('select', {
    id: filterId,
    onchange: (e) => { listFilter = e.target.value; refreshNow(); },
  }, [['', 'All'], ['pending', 'Pending'], ['in_progress', 'In Progress'], ['successful', 'Successful'],
    ['failed', 'Failed'], ['cancelled', 'Canceled']].map(([v, t]) => h('option', { value: v, selected: listFilter === v }, t)));

  mount(el, h('section', { 'aria-labelledby': 'jobs-title' },
    h('div', { class: 'title-row' },
      h('h2', { id: 'jobs-title', tabindex: -1 }, 'Jobs'),
      h('a', { class: 'button primary', href: '#/new' }, 'New migration')),
    h('div', { class: 'toolbar' },
      h('div', { class: 'field inline' }, h('label', { for: filterId }, 'Status'), select)),
    h('table', { class: 'grid jobs' },
      h('caption', { class: 'sr-only' }, 'Migration jobs, newest first'),
      h('thead', null, h('tr', null, ['Job', 'Status', 'Collections', 'Created', 'Duration'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody),
    msg));

  async function refresh(live) {
    let r;
    try {
      r = await api.jobs(listFilter);
      if (!live()) return SLOW_MS; // the filter changed while this was in flight
      mount(msg);
    } catch (e) {
      if (!live()) return SLOW_MS;
      mount(msg, h('p', { role: 'alert', class: 'error' }, `Cannot list the jobs: ${e.message}`));
      return SLOW_MS;
    }
    const jobs = r.jobs || [];
    mount(tbody, jobs.length ? jobs.map((j) => h('tr', null,
      h('td', null, h('a', { href: `#/jobs/${encodeURIComponent(j.id)}` }, j.id)),
      h('td', null, jobBadge(j)),
      h('td', null, h('ul', { class: 'coll-progress' }, (j.collections || []).map((c) => h('li', null,
        h('div', { class: 'coll-line' },
          h('span', null, c.source, ' → ', h('strong', null, c.target)), ' ',
          badge(c.status, c.label), ' ',
          h('span', { class: 'muted' }, c.status === 'IN_PROGRESS' ? fmtRate(rateOf(c)) : ''), ' ',
          indexText(c) ? h('span', { class: 'muted index-state' }, `index ${indexText(c)}`) : null),
        progress(c.written || 0, c.total || 0, `${c.source} progress`))))),
      h('td', null, fmtTime(j.created_ms)),
      h('td', null, duration(j))))
      : h('tr', null, h('td', { colspan: 5, class: 'muted' }, listFilter ? 'No job with this status.' : 'No jobs yet. Start one with “New migration”.')));
    return jobs.some(isActive) ? FAST_MS : SLOW_MS;
  }

  let stop = poller(refresh);
  function refreshNow() { stop(); stop = poller(refresh); }
  return () => stop();
}

// ---- detail ----------------------------------------------------------------------------

const ACTIONS = [
  ['cancel', 'Cancel', (j) => (j.status === 'PENDING' || j.status === 'IN_PROGRESS')],
  ['resume', 'Resume', (j) => j.orphaned || j.status === 'FAILED' || j.status === 'CANCELLED'],
  ['retry', 'Retry failed', (j) => j.status === 'FAILED' && !j.orphaned],
  ['restart', 'Restart', (j) => j.orphaned || j.status === 'FAILED' || j.status === 'CANCELLED' || j.status === 'SUCCESSFUL'],
];
const CONFIRM = {
  cancel: 'Cancel this job? Its checkpoints are kept; you can resume it later.',
  restart: 'Restart this job from scratch? The Milvus collections it created are dropped first.',
};

function verifyText(v) {
  if (!v) return h('span', { class: 'muted' }, '—');
  const countsOk = v.source_count === v.target_count;
  const diffs = (v.missing || 0) + (v.vector_diffs || 0) + (v.payload_diffs || 0);
  const ok = countsOk && diffs === 0;
  return h('div', { class: ok ? 'ok' : 'error' },
    h('strong', null, ok ? 'Verified' : 'Differences found'), ': ',
    `${fmtInt(v.target_count)} of ${fmtInt(v.source_count)} points`,
    v.sampled ? `, ${fmtInt(v.sampled)} sampled: ${fmtInt(v.missing)} missing, ${fmtInt(v.vector_diffs)} vector and ${fmtInt(v.payload_diffs)} payload differences` : '',
    v.rejected ? `, ${fmtInt(v.rejected)} rejected` : '',
    v.first_diff ? h('div', { class: 'muted' }, `First difference: ${v.first_diff}`) : null);
}

/** The index build of a collection as the job last saw it (index_* fields of GET /jobs/{id}). */
export function indexText(c) {
  if (c.index_built) return `built (${fmtInt(c.index_rows || 0)} rows)`;
  if (!c.index_total) return '';
  const rows = `${fmtInt(c.index_rows || 0)} of ${fmtInt(c.index_total)} rows indexed`;
  if (c.status === 'IN_PROGRESS') return `building: ${rows}`;
  if (c.index_live) return `building: ${rows} (asked Milvus just now) — searchable now`;
  return `building: ${rows} when the job ended — searchable now`;
}

// a finished collection whose build the job did not wait for: Milvus can be asked again
const indexTrailing = (c) => c.status === 'SUCCESSFUL' && !c.index_built && c.index_total > 0;

/** Mount one job's detail into `el`; returns a function that stops its polling. */
export function showJobDetail(el, id) {
  const head = h('div');
  const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Job actions' });
  const actionMsg = h('div', { class: 'step-msg' });
  const facts = h('div');
  const collTable = h('tbody');
  const indexMsg = h('div', { class: 'step-msg' });
  const indexBtn = h('button', { type: 'button', style: 'display: none', onclick: () => askIndex() },
    'Ask Milvus for the index build now');
  const live = new Map(); // target collection -> its index_* as Milvus last answered
  const logList = h('ol', { class: 'log', role: 'log', 'aria-label': 'Job log', 'aria-live': 'off' });
  const onlyProblems = h('input', { id: 'log-problems', type: 'checkbox', onchange: () => renderLog() });
  let logs = [];
  let after = 0;
  let job = null;
  let actionsKey = '';
  let busy = false;

  mount(el, h('section', { 'aria-labelledby': 'job-title' },
    h('p', null, h('a', { href: '#/jobs' }, '← All jobs')),
    head, actions, actionMsg, facts,
    h('h3', null, 'Collections'),
    h('table', { class: 'grid' },
      h('caption', { class: 'sr-only' }, 'Collections of this job'),
      h('thead', null, h('tr', null, ['Collection', 'Status', 'Phase', 'Progress', 'Index', 'Verification'].map((t) => h('th', { scope: 'col' }, t)))),
      collTable),
    h('div', { class: 'actions' }, indexBtn), indexMsg,
    h('div', { class: 'title-row' },
      h('h3', null, 'Log'),
      h('div', { class: 'field check' }, onlyProblems, h('label', { for: 'log-problems' }, 'Errors and warnings only'))),
    logList));

  function renderLog() {
    const shown = onlyProblems.checked ? logs.filter((l) => /^(error|warn)/i.test(l.level || '')) : logs;
    const atBottom = logList.scrollTop + logList.clientHeight >= logList.scrollHeight - 8;
    mount(logList, shown.length ? shown.map((l) => h('li', { class: `lvl-${String(l.level || 'info').toLowerCase()}` },
      h('span', { class: 'log-ts' }, fmtTime(l.ts_ms)), ' ',
      h('span', { class: 'log-lvl' }, String(l.level || '').toUpperCase()), ' ',
      l.collection ? h('span', { class: 'log-coll' }, `[${l.collection}${l.point_id != null && l.point_id !== '' ? ` #${l.point_id}` : ''}]`) : null, ' ',
      l.message)) : h('li', { class: 'muted' }, 'No log lines yet.'));
    if (atBottom) logList.scrollTop = logList.scrollHeight;
  }

  function render() {
    const j = job;
    mount(head, h('div', { class: 'title-row start' },
      h('h2', { id: 'job-title', tabindex: -1 }, `Job ${j.id}`), jobBadge(j)));
    const avail = ACTIONS.filter(([, , when]) => when(j));
    const key = avail.map(([a]) => a).join(',') + (busy ? '*' : '');
    if (key !== actionsKey) {
      actionsKey = key;
      mount(actions, avail.map(([a, label]) => h('button', {
        type: 'button', class: a === 'cancel' || a === 'restart' ? 'danger' : '', disabled: busy,
        onclick: () => act(a, label),
      }, label)));
    }
    const totalW = j.written ?? (j.collections || []).reduce((s, c) => s + (c.written || 0), 0);
    const totalT = j.total ?? (j.collections || []).reduce((s, c) => s + (c.total || 0), 0);
    mount(facts,
      j.error ? h('div', { role: 'alert', class: 'refusal' }, h('strong', null, 'Error: '), j.error) : null,
      j.orphaned ? h('p', { class: 'error' }, 'The process running this job is gone. Resume it to continue from its checkpoints.') : null,
      h('dl', { class: 'facts-grid' },
        h('dt', null, 'Source'), h('dd', null, h('code', null, j.source?.url || '—')),
        h('dt', null, 'Target'), h('dd', null, h('code', null, j.target?.url || '—'), j.target?.db ? ` (database ${j.target.db})` : ''),
        h('dt', null, 'Created'), h('dd', null, fmtTime(j.created_ms)),
        h('dt', null, 'Started'), h('dd', null, fmtTime(j.started_ms)),
        h('dt', null, 'Finished'), h('dd', null, fmtTime(j.finished_ms)),
        h('dt', null, 'Duration'), h('dd', null, duration(j)),
        h('dt', null, 'Progress'), h('dd', null, progress(totalW, totalT, 'Job progress'))));
    const colls = (j.collections || []).map((c) => (live.has(c.target) && !c.index_built
      ? { ...c, ...live.get(c.target) } : c));
    indexBtn.style.display = colls.some(indexTrailing) ? '' : 'none'; // the stylesheet styles buttons' display
    mount(collTable, colls.map((c) => h('tr', null,
      h('td', null, c.source, ' → ', h('strong', null, c.target)),
      h('td', null, badge(c.status, c.label),
        c.error ? h('div', { class: 'error small' }, c.error) : null),
      h('td', null, c.phase || '—'),
      h('td', null, progress(c.written || 0, c.total || 0, `${c.source} progress`),
        h('div', { class: 'muted small' }, c.status === 'IN_PROGRESS' ? fmtRate(rateOf(c)) : '')),
      h('td', { class: 'index-state' }, indexText(c) || h('span', { class: 'muted' }, '—')),
      h('td', null, verifyText(c.verify)))));
  }

  async function askIndex() {
    indexBtn.disabled = true;
    mount(indexMsg, h('p', { role: 'status', class: 'muted' }, 'Asking Milvus…'));
    try {
      const r = await api.jobIndexLive(id);
      for (const c of r.collections || []) {
        if (c.index_live) live.set(c.target, { index_rows: c.index_rows, index_total: c.index_total, index_built: c.index_built, index_live: true });
      }
      mount(indexMsg);
    } catch (e) {
      mount(indexMsg, h('p', { role: 'alert', class: 'error' }, `Cannot ask Milvus for the index build: ${e.message}`));
    }
    indexBtn.disabled = false;
    if (job) render();
  }

  async function act(action, label) {
    if (CONFIRM[action] && !window.confirm(CONFIRM[action])) return;
    busy = true;
    render();
    mount(actionMsg, h('p', { role: 'status', class: 'muted' }, `${label}…`));
    try {
      const r = await api.action(id, action);
      if (r && r.id) job = r;
      mount(actionMsg, h('p', { role: 'status', class: 'ok' }, `${label}: done.`));
    } catch (e) {
      mount(actionMsg, h('p', { role: 'alert', class: 'error' }, `${label} failed: ${e.message}`));
    }
    busy = false;
    render();
    restart();
  }

  let wasActive = true;
  async function refresh(live) {
    let got;
    try {
      got = await api.job(id);
    } catch (e) {
      if (!live()) return SLOW_MS;
      mount(head, h('h2', { id: 'job-title' }, `Job ${id}`),
        h('p', { role: 'alert', class: 'error' }, e.message));
      return e.status === 404 ? 60000 : SLOW_MS;
    }
    if (!live()) return SLOW_MS; // an action restarted polling: a newer answer is on its way
    job = got;
    render();
    try {
      for (let i = 0; i < 20; i++) { // catch up in pages
        const r = await api.logs(id, after);
        if (!live()) return SLOW_MS; // the newer poller reads the same page: do not add it twice
        const page = r.logs || [];
        if (page.length) {
          logs = logs.concat(page).slice(-1000);
          renderLog();
        } else if (!logs.length) renderLog();
        const next = r.next ?? (page.length ? page[page.length - 1].seq : after);
        if (next <= after) break;
        after = next;
        if (!page.length) break;
      }
    } catch {
      // the log is secondary: keep the status view going
    }
    const active = isActive(job);
    const delay = active || wasActive ? FAST_MS : SLOW_MS;
    wasActive = active;
    return delay;
  }

  let stop = poller(refresh);
  function restart() { stop(); wasActive = true; stop = poller(refresh); }
  return () => stop();
}
