// app.js - entry point of the vmigrate web console: a hash router between the
// "New migration" wizard (#/new) and the Jobs page (#/jobs, #/jobs/<id>), the header
// navigation, and the server version in the footer.

import { api } from './api.js';
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

window.addEventListener('hashchange', route);
route();

api.health().then((r) => {
  document.getElementById('version').textContent = `vmigrate ${r.version || ''}`.trim();
}).catch(() => {
  document.getElementById('version').textContent = 'vmigrate serve is not reachable';
});
