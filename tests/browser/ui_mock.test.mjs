// ui_mock.test.mjs - fast UI tests of the web console against the mock API
// (tests/browser/mock_api.mjs) in Debian's chromium: connection errors and versions, selection,
// schema refusals and name validation, the job view with its actions, and that secrets never
// leave memory (no storage, no URLs, no console output).   Run: node --test tests/browser/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, MOCK } from './mock_api.mjs';
import { launch, openPage, screenshotter } from './browser.mjs';

let mock;
let browser;
const shoot = screenshotter('mock');

before(async () => {
  mock = await startMock();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await mock?.close();
  console.log(`mock UI screenshots: ${shoot.dir}`);
});

async function connect(page) {
  await page.getByLabel('Qdrant URL').fill(MOCK.qdrantUrl);
  await page.getByLabel('Qdrant API key').fill(MOCK.qdrantKey);
  await page.getByLabel('Milvus URL').fill(MOCK.milvusUrl);
  await page.getByLabel('Milvus token').fill(MOCK.milvusToken);
}

test('wizard: connect errors, select, schema validation, migrate, job view', async () => {
  const { context, page, consoleLines, pageErrors, urls } = await openPage(browser, mock.url);
  try {
    await assert.doesNotReject(page.getByRole('heading', { name: 'Connect' }).waitFor());
    await page.getByText('vmigrate 0.1.0-mock').waitFor();

    // gRPC-port hint and a wrong key are shown as the API words them
    await page.getByLabel('Qdrant URL').fill('http://qdrant.test:6334');
    await page.getByRole('button', { name: 'Test Qdrant connection' }).click();
    await page.getByRole('alert').filter({ hasText: "port 6334 is Qdrant's gRPC port" }).waitFor();
    await connect(page);
    await page.getByLabel('Qdrant API key').fill('wrong');
    await page.getByRole('button', { name: 'Test Qdrant connection' }).click();
    await page.getByRole('alert').filter({ hasText: 'Qdrant refused the API key' }).waitFor();
    await page.getByLabel('Qdrant API key').fill(MOCK.qdrantKey);
    await page.getByRole('button', { name: 'Test Qdrant connection' }).click();
    await page.getByText('Connected: Qdrant 1.19.0').waitFor();
    await page.getByRole('button', { name: 'Test Milvus connection' }).click();
    await page.getByText('Connected: Milvus v2.6.0-lite').waitFor();
    await shoot(page, 'connect');

    // select: all, then none, then three
    await page.getByRole('button', { name: 'Next: select collections' }).click();
    await page.getByRole('heading', { name: 'Select collections' }).waitFor();
    const next = page.getByRole('button', { name: 'Next: review schema' });
    assert.equal(await next.isDisabled(), true);
    await page.getByLabel('Select all collections').check();
    await page.getByText('4 of 4 selected').waitFor();
    await page.getByLabel('Select all collections').uncheck();
    await page.getByText('0 of 4 selected').waitFor();
    for (const n of ['dg_single_cosine_768', 'dg_named_mixed', 'dg_manhattan', 'existing']) {
      await page.getByLabel(`Select ${n}`).check();
    }
    await page.getByRole('row', { name: /dg_named_mixed/ }).getByText('multivector').count().then((n) => assert.equal(n, 0));
    await page.getByRole('row', { name: /dg_named_mixed/ }).getByText('sparse', { exact: true }).first().waitFor();
    await page.getByRole('row', { name: /dg_manhattan/ }).getByText('not supported by Milvus').waitFor();
    await shoot(page, 'select');
    await next.click();

    // schema: refusals, validation, edits
    await page.getByRole('heading', { name: 'Schema' }).waitFor();
    const manhattan = page.getByRole('region', { name: 'dg_manhattan' });
    await manhattan.getByRole('alert').filter({ hasText: 'Manhattan distance, which Milvus does not support' }).waitFor();
    assert.equal(await manhattan.getByLabel('Target collection name').count(), 0);
    const existing = page.getByRole('region', { name: 'existing' });
    await existing.getByText('already exists in Milvus').waitFor();
    await page.getByText('2 collections will be migrated, 2 refused.').waitFor();

    const single = page.getByRole('region', { name: 'dg_single_cosine_768' });
    const mixed = page.getByRole('region', { name: 'dg_named_mixed' });
    const toReview = page.getByRole('button', { name: 'Next: review and migrate' });
    await single.getByLabel('Target collection name').fill('1bad-name');
    await single.getByText('Must not start with a digit.').waitFor();
    assert.equal(await single.getByLabel('Target collection name').getAttribute('aria-invalid'), 'true');
    assert.equal(await toReview.isDisabled(), true);
    await single.getByLabel('Target collection name').fill('dg_named_mixed');
    await single.getByText('"dg_named_mixed" is also the target of dg_named_mixed.').waitFor();
    await mixed.getByText('"dg_named_mixed" is also the target of dg_single_cosine_768.').waitFor();
    await single.getByLabel('Target collection name').fill('movies');
    await mixed.getByLabel('Field name for vector dense64').fill('dense32');
    await mixed.getByText('"dense32" is also used by vector dense32.').waitFor();
    await mixed.getByText('"dense32" is also used by vector dense64.').waitFor();
    await mixed.getByLabel('Field name for vector dense64').fill('in');
    await mixed.getByText('reserved word').waitFor();
    await mixed.getByLabel('Field name for vector dense64').fill('embedding');
    await mixed.getByLabel('Primary key field name').fill('pk');
    await single.getByLabel('Description').fill('movie embeddings');
    // an "exists" refusal is lifted by a new target name
    await existing.getByLabel('Target collection name').fill('existing_v2');
    await page.getByText('3 collections will be migrated, 1 refused.').waitFor();
    await page.getByLabel('Vector index').selectOption('hnsw');
    assert.equal(await toReview.isDisabled(), false);
    await shoot(page, 'schema');
    // back to the selection and forward again: the edits survive the new plan
    await page.getByRole('button', { name: 'Back' }).click();
    await page.getByRole('button', { name: 'Next: review schema' }).click();
    await page.getByRole('heading', { name: 'Schema' }).waitFor();
    assert.equal(await single.getByLabel('Target collection name').inputValue(), 'movies');
    assert.equal(await mixed.getByLabel('Field name for vector dense64').inputValue(), 'embedding');
    assert.equal(await existing.getByLabel('Target collection name').inputValue(), 'existing_v2');
    await toReview.click();

    // migrate
    await page.getByRole('heading', { name: 'Migrate' }).waitFor();
    await page.getByRole('cell', { name: 'movies' }).waitFor();
    await shoot(page, 'migrate');
    await page.getByRole('button', { name: 'Start migration' }).click();
    await page.getByRole('heading', { name: /^Job j/ }).waitFor();
    assert.match(page.url(), /#\/jobs\/j/);
    const created = mock.requests.find((r) => r.method === 'POST' && r.url === '/api/v1/jobs');
    const pcols = created.body.plan.collections;
    assert.deepEqual(pcols.map((c) => c.target), ['movies', 'dg_named_mixed', 'existing_v2']);
    assert.equal(pcols[0].description, 'movie embeddings');
    assert.equal(pcols[1].primary_key.name, 'pk');
    assert.deepEqual(pcols[1].vectors.map((v) => v.field), ['dense32', 'embedding', 'sparse']);
    assert.ok(pcols.every((c) => c.index === 'HNSW' && !('_exists_name' in c)));
    assert.deepEqual(created.body.options, { verify_sample: 100, store_secrets: true, wait_index: false });
    assert.equal(created.body.source.api_key, MOCK.qdrantKey);
    assert.equal(created.body.target.token, MOCK.milvusToken);

    // job detail until Successful, with verification and log
    await page.locator('#job-title + .badge', { hasText: 'In Progress' }).or(page.locator('#job-title + .badge', { hasText: 'Successful' })).waitFor();
    await page.locator('#job-title + .badge', { hasText: 'Successful' }).waitFor({ timeout: 20000 });
    await page.getByRole('log').getByText('job successful').waitFor();
    await page.getByText('Verified').first().waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0);
    await page.getByRole('button', { name: 'Restart' }).waitFor();
    // not waited for: the index build trails, and Milvus can be asked again
    const moviesRow = page.getByRole('row').filter({ hasText: 'movies' });
    await moviesRow.getByText(/building: \d+ of \d+ rows indexed when the job ended — searchable now/).waitFor();
    await shoot(page, 'job');
    await page.getByRole('button', { name: 'Ask Milvus for the index build now' }).click();
    await moviesRow.getByText(/^built \(\d+ rows\)$/).waitFor();
    assert.ok(mock.requests.some((r) => r.method === 'GET' && /\/jobs\/j[^/?]+\?index=live$/.test(r.url)));
    await page.getByRole('button', { name: 'Ask Milvus for the index build now' }).waitFor({ state: 'hidden' });

    // secrets: never stored, never in a URL, never on the console
    const storage = await page.evaluate(() => localStorage.length + sessionStorage.length + document.cookie.length);
    assert.equal(storage, 0);
    for (const secret of [MOCK.qdrantKey, MOCK.milvusToken]) {
      assert.ok(!urls.some((u) => u.includes(secret) || u.includes(encodeURIComponent(secret))), 'a secret in a URL');
      assert.ok(!consoleLines.some((l) => l.includes(secret)), 'a secret on the console');
      assert.ok(!mock.requests.some((r) => r.url.includes(secret)), 'a secret in a request URL');
    }
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});

test('wizard: a collection refused when the job is created is listed, with what the job holds', async () => {
  const { context, page, pageErrors } = await openPage(browser, mock.url);
  try {
    await connect(page);
    await page.getByRole('button', { name: 'Next: select collections' }).click();
    for (const n of ['dg_single_cosine_768', 'dg_named_mixed']) await page.getByLabel(`Select ${n}`).check();
    await page.getByRole('button', { name: 'Next: review schema' }).click();
    await page.getByRole('heading', { name: 'Schema' }).waitFor();
    const mixed = page.getByRole('region', { name: 'dg_named_mixed' });
    await mixed.getByLabel('Target collection name').fill('appears_later');
    await page.getByText('2 collections will be migrated.').waitFor();
    await page.getByRole('button', { name: 'Next: review and migrate' }).click();
    await page.getByRole('heading', { name: 'Migrate' }).waitFor();
    await page.getByRole('button', { name: 'Start migration' }).click();
    const result = page.getByRole('status').filter({ hasText: 'created' });
    await result.getByText(/It holds 1 collection, [\d,]+ points\./).waitFor();
    await result.getByText('already exists in Milvus (exists)').waitFor();
    await result.getByText('dg_named_mixed', { exact: true }).waitFor();
    const created = mock.requests.filter((r) => r.method === 'POST' && r.url === '/api/v1/jobs').pop();
    const jid = [...mock.jobs.keys()].pop();
    assert.equal(created.body.plan.collections.length, 2);
    assert.deepEqual(mock.jobs.get(jid).collections.map((c) => c.source), ['dg_single_cosine_768']);
    await shoot(page, 'created-with-refusal');
    await page.getByRole('link', { name: 'Open the job' }).click();
    await page.getByRole('heading', { name: `Job ${jid}` }).waitFor();
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});

test('jobs page: list badges and progress, cancel, resume', async () => {
  mock.setSpeed(20); // slow enough to cancel
  const { context, page, pageErrors } = await openPage(browser, mock.url);
  try {
    await connect(page);
    await page.getByRole('button', { name: 'Next: select collections' }).click();
    await page.getByLabel('Select dg_single_cosine_768').check();
    await page.getByRole('button', { name: 'Next: review schema' }).click();
    await page.getByRole('region', { name: 'dg_single_cosine_768' }).getByLabel('Target collection name').fill('slow_one');
    await page.getByRole('button', { name: 'Next: review and migrate' }).click();
    await page.getByLabel('Wait for the index build before the job counts as done').check();
    await page.getByRole('button', { name: 'Start migration' }).click();
    await page.locator('#job-title + .badge', { hasText: 'In Progress' }).waitFor();
    await page.getByRole('progressbar', { name: 'dg_single_cosine_768 progress' }).waitFor();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'slow_one' });
    await row.getByText('In Progress').first().waitFor();
    const bar = row.getByRole('progressbar');
    const v1 = Number(await bar.getAttribute('aria-valuenow'));
    // auto-refresh moves it: wait for the mock's progress to show up, however slow the machine is
    await page.waitForFunction((before) => [...document.querySelectorAll('tr')]
      .filter((r) => r.textContent.includes('slow_one'))
      .some((r) => Number(r.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')) > before), v1);
    await row.getByText('points/s').waitFor();
    await page.getByRole('row').filter({ hasText: 'movies' }).getByText('Successful').first().waitFor();
    await shoot(page, 'jobs-list');

    await page.getByLabel('Status').selectOption('successful');
    await page.getByRole('row').filter({ hasText: 'movies' }).waitFor();
    // the filtered list replaces the unfiltered one when its answer arrives
    await page.waitForFunction(() => ![...document.querySelectorAll('tr')].some((r) => r.textContent.includes('slow_one')));
    assert.equal(await page.getByRole('row').filter({ hasText: 'slow_one' }).count(), 0);
    await page.getByLabel('Status').selectOption('');

    await page.getByRole('row').filter({ hasText: 'slow_one' }).getByRole('link').click();
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('#job-title + .badge', { hasText: 'Canceled' }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Retry failed' }).count(), 0);
    await shoot(page, 'job-canceled');
    mock.setSpeed(2000);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('#job-title + .badge', { hasText: 'Successful' }).waitFor({ timeout: 20000 });
    const created = mock.requests.filter((r) => r.method === 'POST' && r.url === '/api/v1/jobs').pop();
    assert.equal(created.body.options.wait_index, true);
    await page.getByRole('row').filter({ hasText: 'slow_one' }).getByText(/^built \(\d+ rows\)$/).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Ask Milvus for the index build now' }).isVisible(), false);
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});

test('job page: a job run as range tasks lists its tasks with their workers and take-overs', async () => {
  mock.setSpeed(2000);
  const plan = { collections: [{ source: 'movies', target: 'movies_tasks', source_count: 4000 }] };
  const r = await fetch(`${mock.url}/api/v1/jobs`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      source: { url: MOCK.qdrantUrl, api_key: MOCK.qdrantKey }, target: { url: MOCK.milvusUrl, token: MOCK.milvusToken },
      plan, options: { tasks: 3 },
    }),
  });
  assert.equal(r.status, 201);
  const { id } = await r.json();
  const { context, page, pageErrors } = await openPage(browser, `${mock.url}/#/jobs/${id}`);
  try {
    await page.locator('#job-title + .badge', { hasText: 'Successful' }).waitFor({ timeout: 20000 });
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
    const table = page.getByRole('table', { name: 'Tasks of this job' });
    const rows = table.locator('tbody tr');
    await page.waitForFunction(() => document.querySelectorAll('table.tasks tbody tr').length === 5);
    assert.deepEqual(await rows.locator('td:nth-child(2)').allTextContents(), ['setup', 'range 1', 'range 2', 'range 3', 'finish']);
    assert.equal(await rows.filter({ hasText: 'Successful' }).count(), 5);
    const first = rows.filter({ hasText: 'range 1' });
    await first.getByText('(1 taken over)').waitFor();
    await first.getByText('mock-a:101/1').waitFor();
    const written = (await rows.locator('td:nth-child(4)').allTextContents()).filter((x) => x !== '—').map(Number);
    assert.equal(written.reduce((a, b) => a + b, 0), 4000);
    await shoot(page, 'job-tasks');
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});

test('API token: asked for once, kept in memory, sent as a Bearer header', async () => {
  const guarded = await startMock({ apiToken: 'console-token-123' });
  const { context, page, pageErrors, urls } = await openPage(browser, `${guarded.url}/#/jobs`);
  try {
    await page.getByRole('heading', { name: 'API token required' }).waitFor();
    await page.getByLabel('API token of vmigrate serve').fill('wrong');
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByText('The API token was not accepted.').waitFor();
    await page.getByLabel('API token of vmigrate serve').fill('console-token-123');
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByText('No jobs yet.').waitFor();
    await page.getByText('vmigrate 0.1.0-mock').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'API token required' }).count(), 0);
    const last = guarded.requests[guarded.requests.length - 1];
    assert.equal(last.authorization, 'Bearer console-token-123');
    assert.ok(!urls.some((u) => u.includes('console-token-123')));
    assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0);
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
    await guarded.close();
  }
});
