// typed_mock.test.mjs - UI details of the Schema step's typed payload fields against the mock API
// (tests/browser/mock_api.mjs) in Debian's chromium: the plan's profile table (and fields it does
// not know ignored), type choices limited to what a key's values allow, the profile's untyped
// keys offered to promote, the notes, every change sent as a --field edit (whole spec) or the
// misfit policy option, refusals (fix typed_field on the field's row, fix payload_misfit) and
// their ways out, the profile option sent, and the job body holding the typed fields; and the Jobs
// page's card for a collection failed by a value that does not fit (keep in $meta / set aside).
// The collection's plan is made here (typedPlan), a stand-in for the library's rules.
//   Run: node --test tests/browser/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, MOCK } from './mock_api.mjs';
import { launch, openPage, screenshotter } from './browser.mjs';

const COLL = 'dg_profiled';
const BASE = [
  { key: 'score', field: 'score', type: 'INT64', nullable: false, default: null, index: 'STL_SORT', qdrant_index: 'integer' },
  { key: 'label', field: 'label', type: 'VARCHAR', max_length: 32, nullable: true, default: null, index: 'INVERTED', qdrant_index: 'keyword' },
];
const PROFILE = { // the shape of src/mapping/profile_json.c, with facts this console does not know
  sample: '10000', full: false, points: 200, total: 1000, some_future_fact: { x: 1 },
  keys: {
    score: { present: 200, nulls: 0, types: ['int', 'float'], int_min: -5, int_max: 99, str_max: 0, elem_types: [], arr_max: 0, distinct: 32, distinct_over: true, novel: 'ignored' },
    label: { present: 150, nulls: 10, types: ['null', 'string'], str_max: 17, elem_types: [], arr_max: 0, distinct: 4, distinct_over: false },
    colors: { present: 200, nulls: 0, types: ['array'], elem_types: ['string'], arr_max: 5, str_max: 9 },
    meta: { present: 40, nulls: 0, types: ['object'] },
  },
  estimate: { read_bytes: 12_500_000, write_bytes: 9_000_000, scalar_bytes: 1_000_000, meta_bytes: 2_000_000, copy_s: 2.5 },
};

/** The plan's typed members from the edits: a small stand-in for src/mapping/scalars.c. */
function typedPlan(options, edits) {
  const fields = BASE.map((f) => ({ ...f }));
  let pk = false;
  let parts = 0;
  let error = null;
  const refuse = (field, fix, message) => { error = error || { code: 'usage', message, field, fix, hint: 'mock hint' }; };
  for (const { kind, value } of edits) {
    const [path, spec] = [value.slice(0, value.indexOf('=')), value.slice(value.indexOf('=') + 1)];
    const key = path.slice(COLL.length + 1);
    let f = fields.find((x) => x.key === key);
    if (kind === 'rename') { if (f) f.field = spec; continue; }
    if (spec === 'dynamic') { fields.splice(fields.indexOf(f), 1); continue; }
    const [t, opts = ''] = spec.split(':');
    if (!f) fields.push(f = { key, field: key, nullable: false, default: null, index: 'NONE', qdrant_index: null });
    f.type = t.startsWith('ARRAY_') ? 'ARRAY' : t;
    if (t.startsWith('ARRAY_')) { f.element_type = t.slice(6); f.max_capacity = f.max_capacity || 4096; }
    if (t.endsWith('VARCHAR')) f.max_length = f.max_length || 65535;
    for (const o of opts.split(',').filter(Boolean)) {
      const [k, v] = o.split('=');
      if (k === 'nullable') f.nullable = true;
      else if (k === 'not_null') f.nullable = false;
      else if (k === 'max_length' || k === 'max_capacity') f[k] = Number(v);
      else if (k === 'index') f.index = v;
      else if (k === 'default') f.default = v;
      else if (k === 'partition_key') pk = f.field;
      else if (k === 'partitions') parts = Number(v);
    }
    if (pk === f.field && f.nullable) {
      refuse(key, 'typed_field', `collection '${COLL}': payload key '${key}' cannot be typed as given: a partition key cannot be nullable (the key is missing or null in some points)`);
    }
  }
  if (options.payload_misfit === 'fail') {
    refuse('score', 'payload_misfit', `collection '${COLL}': the profile saw values of 'score' that do not fit INT64, and payload_misfit is fail`);
  }
  return {
    typed_fields: fields, partition_key: pk, ...(pk ? { num_partitions: parts || 16 } : {}),
    payload_misfit: options.payload_misfit || 'dynamic', profile: PROFILE,
    notes: ["payload key 'meta' holds objects: it stays in $meta"], error,
  };
}

let mock;
let browser;
const shoot = screenshotter('typed-mock');

before(async () => {
  mock = await startMock({
    extra: [{ name: COLL, unnamed: true, vectors: [{ name: '', size: 8, distance: 'Dot', datatype: 'float32' }], status: 'green', points_approx: 200, typedPlan }],
  });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await mock?.close();
});

const plans = () => mock.requests.filter((r) => r.method === 'POST' && r.url === '/api/v1/plan');

async function replanned(page, act) {
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/plan'));
  await act();
  await answered;
  await page.getByRole('heading', { name: 'Schema' }).waitFor();
}

test('typed fields: profile, type choices, edits sent whole, refusals and their ways out, the job body', async () => {
  const { context, page, pageErrors } = await openPage(browser, mock.url);
  try {
    await page.getByLabel('Qdrant URL').fill(MOCK.qdrantUrl);
    await page.getByLabel('Qdrant API key').fill(MOCK.qdrantKey);
    await page.getByLabel('Milvus URL').fill(MOCK.milvusUrl);
    await page.getByLabel('Milvus token').fill(MOCK.milvusToken);
    await page.getByRole('button', { name: 'Next: select collections' }).click();
    await page.getByLabel(`Select ${COLL}`).check();
    await page.getByRole('button', { name: 'Next: review schema' }).click();
    await page.getByRole('heading', { name: 'Schema' }).waitFor();
    const card = page.getByRole('region', { name: COLL });
    const typed = card.getByRole('region', { name: 'Typed payload fields' });

    // profiling is asked for with the plan
    assert.equal(plans().pop().body.profile, undefined);
    await replanned(page, () => page.getByLabel('Profile the payloads').check());
    assert.equal(plans().pop().body.profile, true);

    // the profile, as far as this console knows its fields
    await typed.getByText('Payload profile: 200 points read (a sample)').click();
    const prof = typed.getByRole('table', { name: `Payload profile of ${COLL}` });
    const row = (k) => prof.getByRole('row').filter({ has: page.getByRole('cell', { name: k, exact: true }) });
    assert.deepEqual(await row('score').getByRole('cell').allInnerTexts(), ['score', 'int, float', '100 %', '0', '0', '-5 … 99', '0', 'more than 32']);
    assert.deepEqual(await row('label').getByRole('cell').allInnerTexts(), ['label', 'null, string', '75 %', '10', '17', '—', '0', '4']);
    assert.deepEqual(await row('colors').getByRole('cell').allInnerTexts(), ['colors', 'array, elements: string', '100 %', '0', '9', '—', '5', '—']);
    await typed.getByText('Estimate for the whole collection: reads 13 MB; writes 9.0 MB; typed fields 1.0 MB, $meta 2.0 MB; copy about 3 s at the rate measured.').waitFor();
    await card.getByText("payload key 'meta' holds objects: it stays in $meta").waitFor();
    await shoot(page, 'profile');

    // a type select holds the types the key's values allow
    const opts = (label) => typed.getByLabel(label).locator('option:not([disabled])').allInnerTexts();
    assert.deepEqual(await opts('Type of score'), ['INT64', 'DOUBLE', 'JSON']);
    assert.deepEqual(await opts('Type of label'), ['VARCHAR', 'JSON']);

    // promote: the profile's untyped keys are offered; the type follows the key's values
    assert.deepEqual(await typed.locator('datalist option').evaluateAll((os) => os.map((o) => o.value)), ['colors', 'meta']);
    await typed.getByLabel('Payload key to type').fill('colors');
    assert.deepEqual(await opts('Type for the new field'), ['JSON', 'ARRAY_VARCHAR']);
    await typed.getByLabel('Type for the new field').selectOption('ARRAY_VARCHAR');
    await replanned(page, () => typed.getByRole('button', { name: 'Add typed field' }).click());
    assert.deepEqual(plans().pop().body.edits, [{ kind: 'field', value: `${COLL}.colors=ARRAY_VARCHAR` }]);
    assert.equal(await typed.getByLabel('Type of colors').inputValue(), 'ARRAY_VARCHAR');

    // a change sends the field's whole spec; the promoted field's edit stays
    await replanned(page, async () => {
      await typed.getByLabel('Max length of label').fill('64');
      await typed.getByLabel('Max length of label').press('Tab');
    });
    assert.deepEqual(plans().pop().body.edits.map((e) => e.value).sort(),
      [`${COLL}.colors=ARRAY_VARCHAR`, `${COLL}.label=VARCHAR:nullable,max_length=64,index=INVERTED`]);
    await replanned(page, async () => {
      await typed.getByLabel('Default of score').fill('0');
      await typed.getByLabel('Default of score').press('Tab');
    });
    assert.ok(plans().pop().body.edits.some((e) => e.value === `${COLL}.score=INT64:not_null,index=STL_SORT,default=0`));
    await replanned(page, () => typed.getByLabel('Type of score').selectOption('DOUBLE'));
    assert.ok(plans().pop().body.edits.some((e) => e.value === `${COLL}.score=DOUBLE:not_null,default=0`), 'a new type goes without the old sizes and index');

    // the misfit policy: what each does, sent as options.payload_misfit; a refusal by it
    const misfit = page.getByLabel('Payload values that do not fit a typed field');
    await page.getByText('stays in $meta and the field is null').waitFor();
    await replanned(page, () => misfit.selectOption('fail'));
    assert.equal(plans().pop().body.options.payload_misfit, 'fail');
    await page.getByText('A value that does not fit fails its collection.').waitFor();
    await card.getByText('Choose how values that do not fit are handled below.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Next: review and migrate' }).isDisabled(), true);
    await replanned(page, () => page.getByLabel('Payload values that do not fit a typed field').selectOption('dynamic'));
    assert.equal(await card.getByText('Choose how values that do not fit').count(), 0);

    // a partition key on the nullable label: refused on its row, then none
    await replanned(page, () => typed.getByLabel('Partition key label').check());
    const alert = typed.locator('tr[data-key="label"]').getByRole('alert');
    assert.match(await alert.innerText(), /partition key cannot be nullable/);
    await card.getByText('Change the typed field below, or keep the key in the dynamic field.').waitFor();
    await shoot(page, 'refused');
    await replanned(page, () => typed.getByLabel('No partition key').check());
    assert.equal(await alert.count(), 0);
    assert.ok(!plans().pop().body.edits.some((e) => e.value.includes('partition_key')));

    // an edit the server does not take at all (HTTP 400) is taken back, its message on the row
    await replanned(page, async () => {
      await typed.getByLabel('Field name for payload key score').fill('a=b');
      await typed.getByLabel('Field name for payload key score').press('Tab');
    });
    await typed.locator('tr[data-key="score"]').getByRole('alert').filter({ hasText: /Not planned: edits\[\d+\]: --rename expects/ }).waitFor();
    assert.equal(await typed.getByLabel('Field name for payload key score').inputValue(), 'score');

    // keep label in $meta, rename score's field; on to the job
    await replanned(page, () => typed.getByRole('button', { name: 'Keep in $meta (label)' }).click());
    await replanned(page, async () => {
      await typed.getByLabel('Field name for payload key score').fill('points');
      await typed.getByLabel('Field name for payload key score').press('Tab');
    });
    const last = plans().pop().body.edits;
    assert.equal(last.filter((e) => e.kind === 'rename').length, 1, 'the refused rename was taken back');
    assert.ok(last.some((e) => e.kind === 'field' && e.value === `${COLL}.label=dynamic`));
    assert.ok(last.some((e) => e.kind === 'rename' && e.value === `${COLL}.score=points`));
    await page.getByText('1 collection will be migrated.').waitFor();
    await page.getByRole('button', { name: 'Next: review and migrate' }).click();
    await page.getByRole('heading', { name: 'Migrate' }).waitFor();
    await page.getByText(`${COLL}: typed payload fields: points DOUBLE, colors ARRAY<VARCHAR>`).waitFor();
    await page.getByRole('button', { name: 'Start migration' }).click();
    await page.waitForURL(/#\/jobs\//);
    const job = mock.requests.filter((r) => r.method === 'POST' && r.url === '/api/v1/jobs').pop().body;
    const sent = job.plan.collections[0];
    assert.deepEqual(sent.typed_fields.map((f) => [f.key, f.field, f.type]), [['score', 'points', 'DOUBLE'], ['colors', 'colors', 'ARRAY']]);
    assert.deepEqual(sent.profile, PROFILE, 'the plan goes to the job as planned, its profile included');
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});

test('jobs page: a collection failed by a value that does not fit offers the misfit policies', async () => {
  const plan = { version: 1, collections: [{ source: 'keep', target: 'keep', source_count: 40, vectors: [] }, { source: 'aside', target: 'aside', source_count: 40, vectors: [] }] };
  const r = await fetch(`${mock.url}/api/v1/jobs`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ source: { url: MOCK.qdrantUrl, api_key: MOCK.qdrantKey }, target: { url: MOCK.milvusUrl, token: MOCK.milvusToken }, plan }),
  });
  const { id } = await r.json();
  const hint = 'Retry with such values kept in the dynamic field, or with those points set aside in a rejects file';
  const fail = (cure) => ({ at: 0.25, error: "point 7: payload key 'qty' is not an INT64 value", error_code: 'data', error_fix: 'payload_misfit', error_field: 'qty', error_hint: hint, cure });
  const j = mock.jobs.get(id);
  j.collections[0].fail = fail({ payload_misfit: 'dynamic' });
  j.collections[1].fail = fail({ payload_misfit: 'reject', rejects: '/tmp/vmig-mis.jsonl' });
  const retries = () => mock.requests.filter((x) => x.method === 'POST' && x.url === `/api/v1/jobs/${id}/retry`);
  const { context, page, pageErrors } = await openPage(browser, `${mock.url}/#/jobs/${id}`);
  try {
    const card = (s) => page.getByRole('region', { name: `Fix ${s}` });
    await card('keep').waitFor({ timeout: 60_000 });
    assert.deepEqual(await card('keep').getByRole('button').allInnerTexts(), ['Retry with such values kept in $meta', 'Retry, setting such points aside']);
    const text = await card('keep').innerText();
    assert.ok(text.includes('A value of the payload key “qty” does not fit its typed field.') && text.includes(hint), text);
    assert.doesNotMatch(text, /--[a-z]/);
    await shoot(page, 'misfit-card');
    await card('keep').getByRole('button', { name: 'Retry with such values kept in $meta' }).click();
    await card('keep').waitFor({ state: 'detached', timeout: 60_000 });
    assert.deepEqual(retries().pop().body, { collections: { keep: { payload_misfit: 'dynamic' } } });
    // the retry ran aside again too (it failed again): its card is back
    const file = card('aside').getByLabel('File for the points set aside');
    await file.waitFor({ timeout: 60_000 });
    await file.fill('rel.jsonl');
    await card('aside').getByText('An absolute path on the machine running vmigrate serve.').waitFor();
    const n = retries().length;
    await card('aside').getByRole('button', { name: 'Retry, setting such points aside' }).click();
    assert.equal(retries().length, n, 'a relative path is not sent');
    await file.fill('/tmp/vmig-mis.jsonl');
    await card('aside').getByRole('button', { name: 'Retry, setting such points aside' }).click();
    await card('aside').waitFor({ state: 'detached', timeout: 60_000 });
    assert.deepEqual(retries().pop().body, { rejects: '/tmp/vmig-mis.jsonl', collections: { aside: { payload_misfit: 'reject' } } });
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});
