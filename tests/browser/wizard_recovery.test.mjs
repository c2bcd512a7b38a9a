// wizard_recovery.test.mjs - the migration wizard's ways out of a refusal, in Debian's chromium
// against the REAL stack that tests/integration/test_console_wizard.py starts (Milvus Lite, the
// Qdrant test server, `vmigrate serve`) and passes in $VMIG_WIZARD as JSON
// {console, qdrant, milvus, closed_port, rejects}. Each test walks one path end to end through
// the UI, waits for the job it started to end, and prints `WIZARD_JOB {"test", "id", "status"}`;
// the pytest file then checks with pymilvus what landed in Milvus.
// Without $VMIG_WIZARD (e.g. `node --test tests/browser/`) the tests are skipped: they need the
// servers the pytest file starts.   Run: pytest tests/integration/test_console_wizard.py

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, openPage, screenshotter } from './browser.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PYTHON = fs.existsSync(path.join(REPO, '.venv/bin/python')) ? path.join(REPO, '.venv/bin/python') : 'python3';

const ENV = process.env.VMIG_WIZARD ? JSON.parse(process.env.VMIG_WIZARD) : null;
const SKIP = ENV ? false : 'needs the stack of tests/integration/test_console_wizard.py ($VMIG_WIZARD)';
const CLI_FLAG = /--[a-z][a-z-]+/; // the console words its ways out as controls, never as flags
const shoot = screenshotter('wizard');
let browser;

before(async () => { if (ENV) browser = await launch(); });
after(async () => { await browser?.close(); if (ENV) console.log(`wizard screenshots: ${shoot.dir}`); });

async function connect(page) {
  await page.getByRole('heading', { name: 'Connect' }).waitFor();
  await page.getByLabel('Qdrant URL').fill(ENV.qdrant);
  await page.getByLabel('Milvus URL').fill(ENV.milvus);
  await page.getByRole('button', { name: 'Next: select collections' }).click();
  await page.getByRole('heading', { name: 'Select collections' }).waitFor({ timeout: 60_000 });
}

async function toSchema(page, names) {
  for (const n of names) await page.getByLabel(`Select ${n}`).check();
  await page.getByRole('button', { name: 'Next: review schema' }).click();
  await page.getByRole('heading', { name: 'Schema' }).waitFor({ timeout: 60_000 });
}

/** Review, start, and wait (through the API) for the job to end; prints its id for pytest. */
async function migrate(page, name, { beforeStart } = {}) {
  await page.getByRole('button', { name: 'Next: review and migrate' }).click();
  await page.getByRole('heading', { name: 'Migrate' }).waitFor({ timeout: 60_000 });
  if (beforeStart) await beforeStart();
  await shoot(page, `${name}-migrate`);
  await page.getByRole('button', { name: 'Start migration' }).click();
  await page.waitForURL(/#\/jobs\/j/, { timeout: 60_000 });
  const id = decodeURIComponent(new URL(page.url()).hash.replace('#/jobs/', ''));
  let job;
  for (let i = 0; i < 600; i++) {
    job = await (await fetch(`${ENV.console}/api/v1/jobs/${encodeURIComponent(id)}`)).json();
    if (!['PENDING', 'IN_PROGRESS'].includes(job.status)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`WIZARD_JOB ${JSON.stringify({ test: name, id, status: job.status })}`);
  assert.equal(job.status, 'SUCCESSFUL', JSON.stringify(job.collections?.map((c) => [c.source, c.status, c.error])));
  return job;
}

/** Create a collection in Milvus behind the console's back (pymilvus), as another user would. */
function createInMilvus(name) {
  const py = 'import sys; from pymilvus import MilvusClient; MilvusClient(uri=sys.argv[1]).create_collection(sys.argv[2], dimension=8)';
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', py, ENV.milvus, name], { timeout: 120_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`pymilvus: ${stderr}`)) : resolve()));
  });
}

async function plainRefusal(card) {
  const text = await card.getByRole('alert').innerText();
  assert.doesNotMatch(text, CLI_FLAG, `a CLI flag in the console: ${text}`);
  return text;
}

test('five vectors: leave one vector out', { skip: SKIP, timeout: 300_000 }, async () => {
  const { context, page, pageErrors } = await openPage(browser, ENV.console);
  try {
    await connect(page);
    await toSchema(page, ['dg_five_vectors']);
    const card = page.getByRole('region', { name: 'dg_five_vectors' });
    await card.getByText('Refused').waitFor();
    const words = await plainRefusal(card);
    assert.match(words, /Vectors to copy/);
    assert.equal(await page.getByRole('button', { name: 'Next: review and migrate' }).isDisabled(), true);
    await shoot(page, 'five-refused');
    await card.getByLabel('Copy vector e').uncheck();
    await card.getByLabel('Target collection name').fill('wiz_five_skip');
    assert.equal(await card.getByText('Refused').count(), 0);
    await page.getByText('1 collection will be migrated.').waitFor();
    await card.getByText('Skipped vectors: e').waitFor();
    const job = await migrate(page, 'five-skip', {
      beforeStart: () => page.getByRole('list', { name: 'Plan options' }).getByText('dg_five_vectors: vectors left out: e').waitFor(),
    });
    assert.deepEqual(job.plan.collections[0].skipped_vectors, ['e']);
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});

test('five vectors: raise the vector limit', { skip: SKIP, timeout: 300_000 }, async () => {
  const { context, page, pageErrors } = await openPage(browser, ENV.console);
  try {
    await connect(page);
    await toSchema(page, ['dg_five_vectors']);
    const card = page.getByRole('region', { name: 'dg_five_vectors' });
    await plainRefusal(card);
    // leaving it out is a choice the user makes, and can undo
    await card.getByRole('button', { name: 'Leave this collection out' }).click();
    await page.getByText('Left out of this migration: dg_five_vectors.').waitFor();
    assert.equal(await card.count(), 0);
    await page.getByRole('button', { name: 'Put them back' }).click();
    await card.getByText('Refused').waitFor();
    await card.getByRole('button', { name: 'Raise the vector limit to 5' }).click();
    await card.getByLabel('Target collection name').fill('wiz_five_all');
    assert.equal(await page.getByLabel('Vector fields per collection').inputValue(), '5');
    for (const v of ['a', 'b', 'c', 'd', 'e']) await card.getByLabel(`Field name for vector ${v}`).waitFor();
    await migrate(page, 'five-all');
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});

test('target exists: no stale messages, a taken new name refused before the job, then renamed', { skip: SKIP, timeout: 300_000 }, async () => {
  const { context, page, pageErrors } = await openPage(browser, ENV.console);
  try {
    // a wrong Milvus URL, then fixed with its Test button: the "fix the errors" line goes
    await page.getByRole('heading', { name: 'Connect' }).waitFor();
    await page.getByLabel('Qdrant URL').fill(ENV.qdrant);
    await page.getByLabel('Milvus URL').fill(`http://127.0.0.1:${ENV.closed_port}`);
    await page.getByRole('button', { name: 'Next: select collections' }).click();
    const stale = page.getByText('Fix the connection errors above to continue.');
    await stale.waitFor({ timeout: 60_000 });
    await page.getByLabel('Milvus URL').fill(ENV.milvus);
    await page.getByRole('button', { name: 'Test Milvus connection' }).click();
    await page.getByText(/^Connected: Milvus/).waitFor({ timeout: 60_000 });
    await page.getByText(/^Connected: Qdrant/).waitFor();
    assert.equal(await stale.count(), 0, 'a stale "Fix the connection errors" with both sides green');
    await page.getByRole('button', { name: 'Next: select collections' }).click();
    await page.getByRole('heading', { name: 'Select collections' }).waitFor({ timeout: 60_000 });

    await toSchema(page, ['dg_single_cosine_768']);
    const card = page.getByRole('region', { name: 'dg_single_cosine_768' });
    const banner = card.getByRole('alert');
    await banner.filter({ hasText: 'already exists' }).waitFor();
    await plainRefusal(card);
    await page.getByText('0 collections will be migrated, 1 refused.').waitFor();
    // a valid new name lifts the refusal: no stale "Target exists"
    await card.getByLabel('Target collection name').fill('wiz_fresh');
    await page.getByText('1 collection will be migrated.').waitFor();
    assert.equal(await banner.count(), 0, 'a stale "Target exists" banner after a valid rename');
    assert.equal(await card.getByText('Refused').count(), 0);
    // a new name that exists too: refused on the schema step, nothing submitted
    await card.getByLabel('Target collection name').fill('wiz_taken');
    await page.getByRole('button', { name: 'Next: review and migrate' }).click();
    await banner.filter({ hasText: "'wiz_taken' already exists" }).waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { name: 'Schema' }).waitFor();
    await page.getByRole('alert').filter({ hasText: 'Nothing was started' }).waitFor();
    assert.match(await plainRefusal(card), /another name/);
    await card.getByRole('button', { name: 'Leave this collection out' }).waitFor();
    await shoot(page, 'exists-refused-again');
    const jobs = await (await fetch(`${ENV.console}/api/v1/jobs`)).json();
    assert.equal(jobs.jobs.filter((j) => j.collections?.some((c) => c.target === 'wiz_taken')).length, 0);
    await card.getByLabel('Target collection name').fill('wiz_renamed');
    await page.getByText('1 collection will be migrated.').waitFor();
    const job = await migrate(page, 'exists-renamed');
    assert.deepEqual(job.plan.collections.map((c) => c.target), ['wiz_renamed']);
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});

test('plan edits: null values dropped, payload keys prefixed, HNSW parameters, rejects file', { skip: SKIP, timeout: 300_000 }, async () => {
  const { context, page, pageErrors } = await openPage(browser, ENV.console);
  try {
    await connect(page);
    await toSchema(page, ['dg_payload_nulls', 'dg_payload_big', 'wiz_conflict']);
    await page.getByLabel('Null values in payloads').selectOption('drop');
    await page.getByLabel('Payload key equal to a field name').selectOption('prefix');
    await page.getByLabel('Prefix for such payload keys').fill('');
    await page.getByText('A prefix is required').waitFor();
    await page.getByLabel('Prefix for such payload keys').fill('qd_');
    await page.getByLabel('Vector index').selectOption('hnsw');
    const nulls = page.getByRole('region', { name: 'dg_payload_nulls' });
    await nulls.getByLabel('HNSW M for the unnamed vector').fill('1');
    await nulls.getByText('M: From 2 to 2048.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Next: review and migrate' }).isDisabled(), true);
    await nulls.getByLabel('HNSW M for the unnamed vector').fill('24');
    await nulls.getByLabel('HNSW ef_construct for the unnamed vector').fill('200');
    await shoot(page, 'edits-schema');
    await migrate(page, 'edits', {
      beforeStart: async () => {
        const facts = page.getByRole('list', { name: 'Plan options' });
        for (const f of ['Null payload values dropped', 'Payload keys equal to a field name prefixed with qd_', 'HNSW index']) {
          await facts.getByText(f).waitFor();
        }
        await page.getByLabel('Set aside points Milvus cannot take (payload over 64 KiB) and go on').check();
        await page.getByLabel('Rejects file').fill(ENV.rejects);
      },
    });
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});

test('a target created while reviewing: refused on Start, not dropped from the job', { skip: SKIP, timeout: 300_000 }, async () => {
  const { context, page, pageErrors } = await openPage(browser, ENV.console);
  try {
    await connect(page);
    await toSchema(page, ['dg_ids_int', 'dg_uint8']);
    await page.getByRole('region', { name: 'dg_ids_int' }).getByLabel('Target collection name').fill('wiz_late');
    await page.getByRole('region', { name: 'dg_uint8' }).getByLabel('Target collection name').fill('wiz_sibling');
    await page.getByText('2 collections will be migrated.').waitFor();
    await page.getByRole('button', { name: 'Next: review and migrate' }).click();
    await page.getByRole('heading', { name: 'Migrate' }).waitFor({ timeout: 60_000 });
    await createInMilvus('wiz_late');
    await page.getByRole('button', { name: 'Start migration' }).click();
    // back on the schema step, the collection refused with its way out; no job was created
    await page.getByRole('heading', { name: 'Schema' }).waitFor({ timeout: 60_000 });
    const card = page.getByRole('region', { name: 'dg_ids_int' });
    await card.getByRole('alert').filter({ hasText: "'wiz_late' already exists" }).waitFor();
    await page.getByRole('alert').filter({ hasText: 'dg_ids_int cannot be migrated as planned' }).waitFor();
    await plainRefusal(card);
    await shoot(page, 'late-refused');
    const jobs = await (await fetch(`${ENV.console}/api/v1/jobs`)).json();
    assert.equal(jobs.jobs.filter((j) => (j.collections || []).some((c) => c.target === 'wiz_sibling')).length, 0,
      'a job was created without the refused collection');
    assert.equal(await page.getByRole('region', { name: 'dg_uint8' }).getByLabel('Target collection name').inputValue(), 'wiz_sibling');
    await card.getByLabel('Target collection name').fill('wiz_late_2');
    await page.getByText('2 collections will be migrated.').waitFor();
    const job = await migrate(page, 'late');
    assert.deepEqual(job.plan.collections.map((c) => c.target).sort(), ['wiz_late_2', 'wiz_sibling']);
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});
