// app.js - entry point of the vmigrate web console: a hash router between the
// "New migration" wizard (#/new) and the Jobs page (#/jobs, #/jobs/<id>), the header
// navigation, the API-token prompt (for `vmigrate serve --api-token`), and the server
// version in the footer.

import { api, setApiToken, whenTokenNeeded } from './api.js';
import { h, mount } from './util.js';
import { showWizard } from './wizard.js';
import { showJobList, showJobDetail } from './jobs.js';

const main = document.getElementById('main');
let leave = null; // stops the current view's polling

function route() {
  if (leave) { leave(); leave = null; }
  const hash = location.hash || '#/new';
  const m = hash.match(/^#\/jobs(?:\/([^/?#]+))?$/);
  for (const a of document.querySelectorAll('header nav a')) {
    const current = m ? a.dataset.nav === 'jobs' : a.dataset.nav === 'new';
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (m && m[1]) {
    document.title = 'Job · vmigrate console';
    leave = showJobDetail(main, decodeURIComponent(m[1]));
  } else if (m) {
    document.title = 'Jobs · vmigrate console';
    leave = showJobList(main);
  } else {
    document.title = 'New migration · vmigrate console';
    showWizard(main);
  }
}

function showVersion() {
  api.health().then((r) => {
    document.getElementById('version').textContent = `vmigrate ${r.version || ''}`.trim();
  }).catch((e) => {
    document.getElementById('version').textContent = e.code === 'api_token' ? '' : 'vmigrate serve is not reachable';
  });
}

// the server was started with --api-token: ask for it once, keep it in memory only
const authBox = document.getElementById('auth');
whenTokenNeeded((message) => {
  if (authBox.childElementCount && !authBox.hidden) return;
  const input = h('input', { id: 'api-token', type: 'password', autocomplete: 'off' });
  const use = () => {
    if (!input.value) return;
    setApiToken(input.value);
    authBox.hidden = true;
    mount(authBox);
    showVersion();
    route();
  };
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') use(); });
  authBox.hidden = false;
  mount(authBox, h('section', { class: 'panel auth', 'aria-labelledby': 'auth-title' },
    h('h2', { id: 'auth-title' }, 'API token required'),
    h('p', { role: 'alert', class: 'error' }, message),
    h('div', { class: 'field' },
      h('label', { for: 'api-token' }, 'API token of vmigrate serve'),
      input,
      h('p', { class: 'hint' }, 'The value of --api-token / VMIGRATE_API_TOKEN. Kept in this page’s memory only.')),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: use }, 'Use token'))));
  input.focus();
});

window.addEventListener('hashchange', route);
route();
showVersion();
