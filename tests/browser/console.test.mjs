// console.test.mjs - end-to-end test of the web console against the REAL stack: Milvus Lite,
// the Qdrant test server (with an API key) and `vmigrate serve`, started by tests/browser/stack.py.
// Through the UI in Debian's chromium: connect (versions shown; a wrong port, a gRPC port and a
// wrong key show the API's errors), select, see dg_manhattan refused with its reason, rename a
// target collection, vector fields and a primary key, migrate, wait for Successful on the Jobs
// page; then tests/browser/check.py proves with pymilvus that the data is under the new names.
//   Run: node --test tests/browser/      (screenshots: the printed folder, or $VMIG_SCREENSHOTS)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { launch, openPage, screenshotter } from './browser.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PYTHON = fs.existsSync(path.join(REPO, '.venv/bin/python')) ? path.join(REPO, '.venv/bin/python') : 'python3';
const STACK_TIMEOUT_MS = 240_000;

let stack; // the stack.py child process
let env;   // its JSON line
let browser;
const shoot = screenshotter('console');

function startStack() {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [path.join(REPO, 'tests/browser/stack.py')], {
      cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'],
    });
    const timer = setTimeout(() => reject(new Error('stack.py did not start in time')), STACK_TIMEOUT_MS);
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', (line) => {
      clearTimeout(timer);
      const info = JSON.parse(line);
      if (info.error) reject(new Error(`stack.py: ${info.error}`));
      else resolve({ child, info });
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`stack.py exited with ${code}`)); });
  });
}

function stopStack() {
  if (!stack || stack.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => stack.kill('SIGKILL'), 60_000);
    stack.once('exit', () => { clearTimeout(kill); resolve(); });
    stack.stdin.end(); // stack.py stops everything on stdin EOF
  });
}

function runCheck(spec) {
  return new Promise((resolve) => {
    execFile(PYTHON, [path.join(REPO, 'tests/browser/check.py'), JSON.stringify(spec)],
      { cwd: REPO, timeout: 300_000 }, (error, stdout, stderr) => resolve({ code: error ? error.code ?? 1 : 0, stdout, stderr }));
  });
}

before(async () => {
  ({ child: stack, info: env } = await startStack());
  browser = await launch();
}, { timeout: STACK_TIMEOUT_MS + 30_000 });

after(async () => {
  await browser?.close();
  await stopStack();
  console.log(`console screenshots: ${shoot.dir}`);
});

test('console: connect, select, edit the schema, migrate, watch the job, data in Milvus', { timeout: 600_000 }, async () => {
  const { context, page, consoleLines, pageErrors, urls } = await openPage(browser, env.console);
  const key = env.qdrant_api_key;
  let jobId;
  try {
    await page.getByRole('heading', { name: 'Connect' }).waitFor();
    await page.getByText(/^vmigrate \d+\.\d+/).waitFor();

    // --- connect: errors as the API words them, then the versions
    const testQdrant = page.getByRole('button', { name: 'Test Qdrant connection' });
    const qdrantAlert = page.getByRole('region', { name: 'Source: Qdrant' }).getByRole('alert');
    await page.getByLabel('Qdrant URL').fill(`http://127.0.0.1:${env.closed_port}`);
    await page.getByLabel('Qdrant API key').fill(key);
    await testQdrant.click();
    await qdrantAlert.filter({ hasText: `127.0.0.1:${env.closed_port}` }).waitFor({ timeout: 30_000 });
    assert.match(await qdrantAlert.innerText(), /connect/i);
    await shoot(page, 'connect-wrong-port');

    await page.getByLabel('Qdrant URL').fill(env.milvus); // a gRPC port where REST is expected
    await testQdrant.click();
    await qdrantAlert.filter({ hasText: 'gRPC' }).waitFor({ timeout: 30_000 });

    await page.getByLabel('Qdrant URL').fill(env.qdrant);
    await page.getByLabel('Qdrant API key').fill('not-the-key');
    await testQdrant.click();
    await qdrantAlert.waitFor({ timeout: 30_000 });
    const keyError = await qdrantAlert.innerText();
    assert.doesNotMatch(keyError, /not-the-key/, 'the API key must not be echoed');

    await page.getByLabel('Qdrant API key').fill(key);
    await testQdrant.click();
    await page.getByText('Connected: Qdrant 1.19.0').waitFor({ timeout: 30_000 });
    await page.getByLabel('Milvus URL').fill(env.milvus);
    await page.getByRole('button', { name: 'Test Milvus connection' }).click();
    await page.getByText(/^Connected: Milvus \S+/).waitFor({ timeout: 30_000 });
    await shoot(page, 'connect-ok');

    // --- select
    await page.getByRole('button', { name: 'Next: select collections' }).click();
    await page.getByRole('heading', { name: 'Select collections' }).waitFor({ timeout: 30_000 });
    for (const n of ['dg_single_cosine_768', 'dg_named_mixed', 'dg_manhattan']) {
      await page.getByRole('row', { name: new RegExp(n) }).waitFor();
    }
    await page.getByRole('row', { name: /dg_single_cosine_768/ }).getByText('dim 768 · Cosine · float32').waitFor();
    await page.getByRole('row', { name: /dg_named_mixed/ }).getByText('sparse', { exact: true }).first().waitFor();
    await page.getByLabel('Select dg_single_cosine_768').check();
    await page.getByLabel('Select dg_named_mixed').check();
    await page.getByLabel('Select dg_manhattan').check();
    await page.getByText('3 of 3 selected').waitFor();
    await shoot(page, 'select');
    await page.getByRole('button', { name: 'Next: review schema' }).click();

    // --- schema: the refusal, then the edits
    await page.getByRole('heading', { name: 'Schema' }).waitFor({ timeout: 60_000 });
    const manhattan = page.getByRole('region', { name: 'dg_manhattan' });
    await manhattan.getByRole('alert').filter({ hasText: 'Manhattan distance, which Milvus does not support' }).waitFor();
    await manhattan.getByText('Refused').waitFor();
    await page.getByText('2 collections will be migrated, 1 refused.').waitFor();

    const single = page.getByRole('region', { name: 'dg_single_cosine_768' });
    const mixed = page.getByRole('region', { name: 'dg_named_mixed' });
    await single.getByRole('cell', { name: 'FLOAT_VECTOR' }).waitFor();
    await single.getByRole('cell', { name: '768' }).waitFor();
    await single.getByRole('cell', { name: 'COSINE' }).waitFor();
    await single.getByLabel('Target collection name').fill('console movies');
    await single.getByText('Use only letters, digits and _').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Next: review and migrate' }).isDisabled(), true);
    await single.getByLabel('Target collection name').fill('console_movies');
    await single.getByLabel('Description').fill('movies, migrated from the console');
    await single.getByLabel('Field name for the unnamed vector').fill('embedding');
    await mixed.getByLabel('Field name for vector dense64').fill('dense_64');
    await mixed.getByLabel('Primary key field name').fill('pid');
    await shoot(page, 'schema');
    await page.getByRole('button', { name: 'Next: review and migrate' }).click();

    // --- migrate
    await page.getByRole('heading', { name: 'Migrate' }).waitFor();
    await page.getByRole('cell', { name: 'console_movies' }).waitFor();
    await page.getByRole('cell', { name: 'pid, dense32, dense_64, sparse' }).waitFor();
    await shoot(page, 'migrate');
    await page.getByRole('button', { name: 'Start migration' }).click();
    await page.getByRole('heading', { name: /^Job / }).waitFor({ timeout: 60_000 });
    jobId = (await page.getByRole('heading', { name: /^Job / }).innerText()).replace(/^Job /, '');
    assert.ok(jobId, 'a job id');
    await page.getByRole('cell', { name: /dg_single_cosine_768 → console_movies/ }).waitFor();

    // --- watch it on the Jobs page until Successful
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: jobId }) });
    await row.waitFor();
    await row.getByRole('progressbar', { name: 'dg_named_mixed progress' }).waitFor();
    await shoot(page, 'jobs-running');
    const badge = row.locator('td:nth-child(2) .badge');
    await badge.filter({ hasText: /^(Successful|Failed|Canceled)$/ }).waitFor({ timeout: 300_000 });
    await shoot(page, 'jobs-done');
    assert.equal(await badge.innerText(), 'Successful');
    assert.equal(await row.getByRole('progressbar', { name: 'dg_single_cosine_768 progress' }).getAttribute('aria-valuenow'), '100');
    await row.getByText('500 / 500 (100%)').waitFor();
    await row.getByText('300 / 300 (100%)').waitFor();

    // --- the job's detail: verification and log
    await row.getByRole('link', { name: jobId }).click();
    await page.getByRole('heading', { name: `Job ${jobId}` }).waitFor();
    const verified = page.getByRole('cell', { name: /^Verified/ });
    await verified.first().waitFor();
    assert.equal(await verified.count(), 2);
    await page.getByRole('cell', { name: /^Verified: 500 of 500 points/ }).waitFor();
    await page.getByRole('cell', { name: /^Verified: 300 of 300 points/ }).waitFor();
    await page.getByRole('log').locator('li').first().waitFor();
    assert.ok(await page.getByRole('log').locator('li').count() >= 1);
    await page.getByRole('button', { name: 'Restart' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0);
    await shoot(page, 'job-detail');

    // --- secrets never left memory
    assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length + document.cookie.length), 0);
    assert.ok(!urls.some((u) => u.includes(key)), 'the API key in a URL');
    assert.ok(!consoleLines.some((l) => l.includes(key)), 'the API key on the console');
    const serveLog = fs.readFileSync(env.logs['vmigrate-serve'], 'utf8');
    assert.ok(!serveLog.includes(key), 'the API key in the serve log');
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }

  // --- the stored job has the edited plan (Milvus Lite keeps no collection description,
  // so the description is checked here rather than through pymilvus)
  const job = await (await fetch(`${env.console}/api/v1/jobs/${encodeURIComponent(jobId)}`)).json();
  assert.equal(job.status, 'SUCCESSFUL');
  const planned = Object.fromEntries(job.plan.collections.map((c) => [c.source, c]));
  assert.deepEqual(Object.keys(planned).sort(), ['dg_named_mixed', 'dg_single_cosine_768']);
  assert.equal(planned.dg_single_cosine_768.target, 'console_movies');
  assert.equal(planned.dg_single_cosine_768.description, 'movies, migrated from the console');
  assert.equal(planned.dg_single_cosine_768.vectors[0].field, 'embedding');
  assert.equal(planned.dg_named_mixed.primary_key.name, 'pid');

  // --- the data, checked independently of vmigrate
  const r = await runCheck({
    qdrant: env.qdrant, qdrant_api_key: key, milvus: env.milvus,
    checks: [
      { source: 'dg_single_cosine_768', target: 'console_movies', pk: 'id', vectors: { '': ['embedding', 'dense'] } },
      { source: 'dg_named_mixed', target: 'dg_named_mixed', pk: 'pid', vectors: { dense32: ['dense32', 'dense'], dense64: ['dense_64', 'dense'], sparse: ['sparse', 'sparse'] } },
    ],
  });
  assert.equal(r.code, 0, `check.py failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /ok dg_single_cosine_768 -> console_movies/);
  assert.match(r.stdout, /ok dg_named_mixed -> dg_named_mixed/);
});
