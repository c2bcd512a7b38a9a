// typed_fields.test.mjs - the Schema step's typed payload fields, in Debian's chromium against the
// REAL stack that tests/integration/test_console_typed.py starts (Milvus Lite, the Qdrant test
// server with the `payload_typed` shape, `vmigrate serve`) and passes in $VMIG_TYPED as JSON
// {console, qdrant, milvus, target}. The test walks the wizard: sees the proposed typed fields,
// profiles the payloads (the table, type choices from the values), promotes tags to ARRAY_VARCHAR (capacity 8), keeps rating in $meta, renames price, makes
// category the partition key, is refused a partition key on the nullable qty (the library's
// message on qty's row) and recovers, then starts the job and prints `WIZARD_JOB {...}`; the
// pytest file checks with pymilvus what landed. Without $VMIG_TYPED the test is skipped.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshotter } from './browser.mjs';

const ENV = process.env.VMIG_TYPED ? JSON.parse(process.env.VMIG_TYPED) : null;
const SKIP = ENV ? false : 'needs the stack of tests/integration/test_console_typed.py ($VMIG_TYPED)';
const COLL = 'dg_payload_typed';
const shoot = screenshotter('typed');
let browser;

before(async () => { if (ENV) browser = await launch(); });
after(async () => { await browser?.close(); });

/** Do act() and wait for the POST /plan it causes to be answered and drawn. */
async function replanned(page, act) {
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/plan') && r.request().method() === 'POST', { timeout: 60_000 });
  await act();
  await answered;
  await page.getByRole('heading', { name: 'Schema' }).waitFor();
}

async function waitJob(id) {
  let job;
  for (let i = 0; i < 600; i++) {
    job = await (await fetch(`${ENV.console}/api/v1/jobs/${encodeURIComponent(id)}`)).json();
    if (!['PENDING', 'IN_PROGRESS'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 500));
  }
  return job;
}

test('typed payload fields: promote, demote, rename, partition key, a refusal and its way out', { skip: SKIP, timeout: 300_000 }, async () => {
  const { context, page, pageErrors } = await openPage(browser, ENV.console);
  try {
    await page.getByRole('heading', { name: 'Connect' }).waitFor();
    await page.getByLabel('Qdrant URL').fill(ENV.qdrant);
    await page.getByLabel('Milvus URL').fill(ENV.milvus);
    await page.getByRole('button', { name: 'Next: select collections' }).click();
    await page.getByRole('heading', { name: 'Select collections' }).waitFor({ timeout: 60_000 });
    await page.getByLabel(`Select ${COLL}`).check();
    await page.getByRole('button', { name: 'Next: review schema' }).click();
    await page.getByRole('heading', { name: 'Schema' }).waitFor({ timeout: 60_000 });

    const card = page.getByRole('region', { name: COLL });
    const typed = card.getByRole('region', { name: 'Typed payload fields' });
    await typed.waitFor();
    // the plan's proposal: one field per Qdrant payload index, typed as the index says
    assert.equal(await typed.getByLabel('Type of category').inputValue(), 'VARCHAR');
    assert.equal(await typed.getByLabel('Type of price').inputValue(), 'DOUBLE');
    assert.equal(await typed.getByLabel('Type of qty').inputValue(), 'INT64');
    assert.equal(await typed.getByLabel('Nullable qty').isChecked(), true);
    assert.equal(await typed.getByLabel('Type of tags').count(), 0);
    assert.equal(await typed.getByLabel('No partition key').isChecked(), true);
    await shoot(page, 'proposed');

    // profiled: the table of what the values are, and the type choices follow them
    await replanned(page, () => page.getByLabel('Profile the payloads').check());
    await typed.getByText('Payload profile: 300 points read (all of them)').click();
    const prof = typed.getByRole('table', { name: `Payload profile of ${COLL}` });
    const qtyRow = prof.getByRole('row').filter({ has: page.getByRole('cell', { name: 'qty', exact: true }) });
    assert.equal(await qtyRow.getByRole('cell').nth(1).innerText(), 'int, string');
    assert.deepEqual(await typed.getByLabel('Type of qty').locator('option').allInnerTexts(), ['INT64', 'DOUBLE', 'VARCHAR', 'JSON']);
    await typed.getByLabel('Payload key to type').fill('tags');
    assert.deepEqual(await typed.getByLabel('Type for the new field').locator('option:not([disabled])').allInnerTexts(), ['JSON', 'ARRAY_VARCHAR']);
    await shoot(page, 'profiled');
    await card.getByLabel('Target collection name').fill(ENV.target);

    // promote tags to ARRAY_VARCHAR, then size it to 8 elements
    await typed.getByLabel('Payload key to type').fill('tags');
    await typed.getByLabel('Type for the new field').selectOption('ARRAY_VARCHAR');
    await replanned(page, () => typed.getByRole('button', { name: 'Add typed field' }).click());
    assert.equal(await typed.getByLabel('Type of tags').inputValue(), 'ARRAY_VARCHAR');
    await replanned(page, async () => {
      await typed.getByLabel('Max capacity of tags').fill('8');
      await typed.getByLabel('Max capacity of tags').press('Tab');
    });
    assert.equal(await typed.getByLabel('Max capacity of tags').inputValue(), '8');

    // keep rating in $meta, and it can be typed again
    await replanned(page, () => typed.getByRole('button', { name: 'Keep in $meta (rating)' }).click());
    assert.equal(await typed.getByLabel('Type of rating').count(), 0);
    await typed.getByRole('button', { name: 'Type rating again' }).waitFor();

    // rename price's Milvus field
    await replanned(page, async () => {
      await typed.getByLabel('Field name for payload key price').fill('cost');
      await typed.getByLabel('Field name for payload key price').press('Tab');
    });
    assert.equal(await typed.getByLabel('Field name for payload key price').inputValue(), 'cost');

    // category as the partition key
    await replanned(page, () => typed.getByLabel('Partition key category').check());
    await typed.getByText('Partition key: category').waitFor();
    await card.getByText('Partition key: category (16 partitions)').waitFor();

    // an impossible choice: the library refuses a partition key on the nullable qty, on qty's row
    await replanned(page, () => typed.getByLabel('Partition key qty').check());
    const qtyAlert = typed.locator('tr[data-key="qty"]').getByRole('alert');
    await qtyAlert.waitFor();
    assert.match(await qtyAlert.innerText(), /partition key cannot be nullable/);
    await card.getByText('Change the typed field below, or keep the key in the dynamic field.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Next: review and migrate' }).isDisabled(), true);
    await shoot(page, 'refused');
    // ... and the way out: category again
    await replanned(page, () => typed.getByLabel('Partition key category').check());
    assert.equal(await qtyAlert.count(), 0);
    await page.getByText('1 collection will be migrated.').waitFor();
    assert.equal(await card.getByText('Change the typed field below').count(), 0);
    await shoot(page, 'chosen');

    await page.getByRole('button', { name: 'Next: review and migrate' }).click();
    await page.getByRole('heading', { name: 'Migrate' }).waitFor({ timeout: 60_000 });
    await page.getByRole('list', { name: 'Plan options' }).getByText(/typed payload fields: .*tags ARRAY<VARCHAR>.*; partition key category/).waitFor();
    await page.getByRole('button', { name: 'Start migration' }).click();
    await page.waitForURL(/#\/jobs\/j/, { timeout: 60_000 });
    const id = decodeURIComponent(new URL(page.url()).hash.replace('#/jobs/', ''));
    const job = await waitJob(id);
    console.log(`WIZARD_JOB ${JSON.stringify({ test: 'typed', id, status: job.status })}`);
    assert.equal(job.status, 'SUCCESSFUL', JSON.stringify(job.collections?.map((c) => [c.source, c.status, c.error])));
    const planned = job.plan.collections[0];
    assert.equal(planned.partition_key, 'category');
    assert.deepEqual(planned.typed_fields.map((f) => f.field).sort(), ['active', 'category', 'cost', 'created', 'qty', 'ref', 'tags']);
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});
