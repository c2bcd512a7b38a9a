// jobs.js - the Jobs page: the job list (status badges, per-collection progress bars,
// auto-refresh every second while a job runs) and one job's detail view (per-collection
// status, phase, progress with its ETA and dropped/rejected counts, verification, the log
// tail read incrementally, Cancel/Resume/Retry/Restart/Verify again with messages that follow
// the job's real state, the fix cards of failed collections and the facts of the Milvus
// collections (job_fix.js).

import { api } from './api.js';
import { h, mount, fmtInt, fmtRate, fmtTime, fmtDuration, fmtEta, badge, progress, isActive, STATUS_LABEL } from './util.js';
import { fixCard, milvusFacts, verdictText, restartDrops } from './job_fix.js';

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

/** Time the job spent running (run_ms: time sat cancelled or failed does not count); jobs
 *  of an older server without it: started to finished. */
function duration(j) {
  if (j.run_ms !== null && j.run_ms !== undefined) return fmtDuration(j.run_ms);
  if (!j.started_ms) return '—';
  return fmtDuration((j.finished_ms || Date.now()) - j.started_ms);
}

/** "about 2 min left" while the collection copies; ''. */
const etaOf = (c) => (c.status === 'IN_PROGRESS' ? fmtEta((c.total || 0) - (c.written || 0), rateOf(c)) : '');

/** Dropped nulls and points set aside, from the collection's stored state. */
function countsText(c) {
  const st = c.state || {};
  const parts = [];
  if (st.nulls_dropped) parts.push(`${fmtInt(st.nulls_dropped)} null value${st.nulls_dropped === 1 ? '' : 's'} dropped`);
  if (st.rejected) parts.push(`${fmtInt(st.rejected)} point${st.rejected === 1 ? '' : 's'} set aside (rejects file)`);
  return parts.join(', ');
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
          h('span', { class: 'muted' }, c.status === 'IN_PROGRESS' ? [fmtRate(rateOf(c)), etaOf(c) ? ` · ${etaOf(c)}` : ''] : ''), ' ',
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
  ['verify', 'Verify again', (j) => j.status === 'SUCCESSFUL' && !j.orphaned],
  ['verify_full', 'Verify every point', (j) => j.status === 'SUCCESSFUL' && !j.orphaned],
  ['resume', 'Resume', (j) => j.orphaned || j.status === 'FAILED' || j.status === 'CANCELLED'],
  ['retry', 'Retry failed', (j) => j.status === 'FAILED' && !j.orphaned],
  ['restart', 'Restart', (j) => j.orphaned || j.status === 'FAILED' || j.status === 'CANCELLED' || j.status === 'SUCCESSFUL'],
];
const CONFIRM = {
  cancel: () => 'Cancel this job? Its checkpoints are kept; you can resume it later.',
  restart: (j) => {
    const drops = restartDrops(j);
    return drops.length
      ? `Restart this job from scratch? These Milvus collections are dropped and copied again: ${drops.join(', ')}.`
      : 'Restart this job from scratch? It created no Milvus collection, so none is dropped.';
  },
};
// what a button's message says while the job has not yet moved
const DOING = { cancel: 'Cancelling…', resume: 'Resuming…', retry: 'Retrying…', restart: 'Restarting…', verify: 'Verifying…', verify_full: 'Verifying every point…' };

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
  const fixes = h('div', { class: 'fixes' });
  // a job run as range tasks (vmigrate worker on a shared job store): who holds what
  const taskBody = h('tbody');
  const taskSection = h('div', { style: 'display: none' },
    h('h3', null, 'Tasks'),
    h('p', { class: 'muted small' }, 'Each collection is set up once, copied as read ranges by every worker on this job store, then finished once. A task taken over from a worker that died resumes from its checkpoint.'),
    h('table', { class: 'grid tasks' },
      h('caption', { class: 'sr-only' }, 'Tasks of this job'),
      h('thead', null, h('tr', null, ['Collection', 'Task', 'Status', 'Written', 'Claims', 'Worker'].map((t) => h('th', { scope: 'col' }, t)))),
      taskBody));
  const again = new Map(); // source collection -> its latest "Verify again" answer
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
  // the last action asked for: {verb, label, before: the job's status/run when asked, seen:
  // the job has moved since, error}; its message is drawn from the job's real state
  let pending = null;

  mount(el, h('section', { 'aria-labelledby': 'job-title' },
    h('p', null, h('a', { href: '#/jobs' }, '← All jobs')),
    head, actions, actionMsg, facts,
    h('h3', null, 'Collections'),
    h('table', { class: 'grid' },
      h('caption', { class: 'sr-only' }, 'Collections of this job'),
      h('thead', null, h('tr', null, ['Collection', 'Status', 'Phase', 'Progress', 'Index', 'In Milvus', 'Verification'].map((t) => h('th', { scope: 'col' }, t)))),
      collTable),
    fixes, taskSection,
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
    const cancelling = !!j.cancel_requested && isActive(j);
    const key = avail.map(([a]) => a).join(',') + (busy ? '*' : '') + (cancelling ? '!' : '');
    if (key !== actionsKey) {
      actionsKey = key;
      mount(actions, avail.map(([a, label]) => h('button', {
        type: 'button', class: a === 'cancel' || a === 'restart' ? 'danger' : '',
        disabled: busy || (a === 'cancel' && cancelling),
        onclick: () => act(a, a === 'retry' ? 'Retry' : label), // "Retry failed: …" would read as its error
      }, label)));
    }
    renderActionMsg(j);
    const totalW = j.written ?? (j.collections || []).reduce((s, c) => s + (c.written || 0), 0);
    const totalT = j.total ?? (j.collections || []).reduce((s, c) => s + (c.total || 0), 0);
    const running = (j.collections || []).filter((c) => c.status === 'IN_PROGRESS');
    const jobEta = j.status === 'IN_PROGRESS' ? fmtEta(totalT - totalW, running.reduce((s, c) => s + rateOf(c), 0)) : '';
    const counts = (j.collections || []).map((c) => (countsText(c) ? `${c.source}: ${countsText(c)}` : '')).filter(Boolean);
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
        h('dt', null, 'Progress'), h('dd', null, progress(totalW, totalT, 'Job progress'),
          jobEta ? h('div', { class: 'muted small eta' }, jobEta) : null),
        counts.length ? [h('dt', null, 'Dropped, set aside'), h('dd', null, counts.join('; '))] : null));
    const colls = (j.collections || []).map((c) => (live.has(c.target) && !c.index_built
      ? { ...c, ...live.get(c.target) } : c));
    indexBtn.style.display = colls.some(indexTrailing) ? '' : 'none'; // the stylesheet styles buttons' display
    mount(collTable, colls.map((c) => h('tr', null,
      h('td', null, c.source, ' → ', h('strong', null, c.target)),
      h('td', null, badge(c.status, c.label),
        c.error ? h('div', { class: 'error small' }, c.error) : null),
      h('td', null, c.phase || '—'),
      h('td', null, progress(c.written || 0, c.total || 0, `${c.source} progress`),
        h('div', { class: 'muted small' }, c.status === 'IN_PROGRESS' ? [fmtRate(rateOf(c)), etaOf(c) ? ` · ${etaOf(c)}` : ''] : ''),
        countsText(c) ? h('div', { class: 'small counts' }, countsText(c)) : null),
      h('td', { class: 'index-state' }, indexText(c) || h('span', { class: 'muted' }, '—')),
      h('td', null, milvusFacts(c, again.get(c.source)) || h('span', { class: 'muted' }, '—')),
      h('td', null, verifyText(c.verify), verdictText(again.get(c.source))))));
    const tasks = j.tasks || [];
    taskSection.style.display = tasks.length ? '' : 'none';
    mount(taskBody, tasks.map((t) => h('tr', null,
      h('td', null, t.collection),
      h('td', null, t.kind === 'range' ? `range ${t.task}` : t.kind),
      h('td', null, badge(t.status, STATUS_LABEL[t.status] || t.status),
        t.error ? h('div', { class: 'error small' }, t.error) : null),
      h('td', null, t.kind === 'range' ? String(t.written || 0) : '—'),
      h('td', null, String(t.attempts || 0), t.reclaims ? h('span', { class: 'muted small' }, ` (${t.reclaims} taken over)`) : ''),
      h('td', null, t.owner ? h('code', null, t.owner) : h('span', { class: 'muted' }, '—')))));
    // the fix cards keep what is typed in them: redrawn only when the failures change
    const fixKey = JSON.stringify(colls.map((c) => [c.source, c.status, c.error, c.error_fix, c.error_fix_arg, j.status, busy]));
    if (fixKey !== fixes.dataset.key) {
      fixes.dataset.key = fixKey;
      mount(fixes, busy ? null : colls.map((c) => fixCard(c, j, (label, verb, changes) => act(verb, label, changes))));
    }
  }

  // redrawn only when it changes: a live region re-announces what is mounted again
  const say = (cls, text, role = 'status') => {
    const p = actionMsg.firstElementChild;
    if (p && p.textContent === text && p.className === cls) return;
    mount(actionMsg, h('p', { role, class: cls }, text));
  };

  /** The message of the last action, from the job as it is now (never a bare "done."). */
  function renderActionMsg(j) {
    if (!pending && j.cancel_requested && isActive(j)) { // cancelled elsewhere (CLI, another page)
      pending = { verb: 'cancel', label: 'Cancel', before: {}, seen: true, error: null };
    }
    const p = pending;
    if (!p) return;
    if (p.error) { say('error', `${p.label} failed: ${p.error}`, 'alert'); return; }
    if (p.verb === 'verify_full') return; // verifyFull() says how far it is
    if (p.verb === 'verify') { // its answer is drawn when it arrives
      if (busy) say('muted', DOING.verify);
      return;
    }
    const moved = p.seen || isActive(j) || j.status !== p.before.status ||
      j.finished_ms !== p.before.finished_ms || j.started_ms !== p.before.started_ms;
    if (moved) p.seen = true;
    const state = jobLabel(j);
    if (p.verb === 'cancel') {
      if (j.status === 'CANCELLED') say('ok', 'Cancelled: the job has stopped. What it wrote is kept; Resume continues from there.');
      else if (isActive(j)) say('muted', 'Cancelling… the job stops at its next checkpoint.');
      else say('muted', `The job ended ${state} before the cancel reached it.`);
      return;
    }
    if (!p.seen || busy) { say('muted', DOING[p.verb] || `${p.label}…`); return; }
    if (isActive(j)) {
      say('muted', `${p.label}: the job is ${state}, ${fmtInt(j.written || 0)} of ${fmtInt(j.total || 0)} points written.`);
    } else if (j.status === 'SUCCESSFUL') {
      say('ok', `${p.label}: the job is Successful.`);
    } else if (j.status === 'FAILED') {
      say('error', `${p.label}: the job failed again. What failed, and what can fix it, is shown below.`, 'alert');
    } else {
      say('muted', `${p.label}: the job is ${state}.`);
    }
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

  async function verifyAgain() {
    try {
      const r = await api.verify(id);
      const at = Date.now();
      const got = r.collections || [];
      for (const v of got) again.set(v.source, { ...v, at_ms: at });
      const diff = got.filter((v) => v.verdict !== 'same').map((v) => v.target);
      if (diff.length) say('error', `Verified again: ${diff.join(', ')} differ${diff.length === 1 ? 's' : ''} from Qdrant.`, 'alert');
      else say('ok', `Verified again: ${got.length === 1 ? 'the collection is' : `all ${got.length} collections are`} the same as in Qdrant.`);
    } catch (e) {
      pending.error = e.message;
    }
    askIndex(); // the index state, as Milvus has it now
  }

  // every point compared on the server's own thread: its progress polled until it ends
  async function verifyFull() {
    const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });
    try {
      let s = await api.verifyFull(id);
      say('muted', `Verifying every point… the differences go to ${s.diff}.`);
      for (;;) {
        await sleep(1000);
        s = await api.verifyStatus(id);
        if (s.status !== 'running') break;
        const p = s.progress || {};
        const eta = p.eta_s >= 0 ? `, about ${Math.ceil(p.eta_s)} s left` : '';
        say('muted', `Verifying every point: ${fmtInt(p.compared || 0)} of ${fmtInt(p.total || 0)} compared${eta}.`);
      }
      const cs = s.collections || [];
      const bad = cs.filter((c) => c.verdict !== 'same');
      if (s.error) pending.error = s.error;
      else if (bad.length) {
        say('error', bad.map((c) => `${c.target}: ${fmtInt(c.missing)} missing, ${fmtInt(c.extra)} extra, ${fmtInt(c.different)} different (ids in ${c.diff_file})`).join('; '), 'alert');
      } else {
        say('ok', `Every point is the same as in Qdrant: ${cs.map((c) => `${fmtInt(c.compared)} points of ${c.target}`).join(', ')}.`);
      }
    } catch (e) {
      pending.error = e.message;
    }
  }

  async function act(action, label, changes) {
    if (CONFIRM[action] && !window.confirm(CONFIRM[action](job))) return;
    pending = { verb: action, label, before: { status: job.status, finished_ms: job.finished_ms, started_ms: job.started_ms }, seen: false, error: null };
    busy = true;
    render();
    if (action === 'verify') {
      await verifyAgain();
    } else if (action === 'verify_full') {
      await verifyFull();
    } else {
      try {
        const r = action === 'retry' ? await api.retry(id, changes || {}) : await api.action(id, action);
        if (r && r.id) job = r;
      } catch (e) {
        pending.error = e.message;
      }
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
