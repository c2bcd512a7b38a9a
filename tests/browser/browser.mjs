// browser.mjs - shared helpers of the console's browser tests: launch Debian's chromium through
// playwright-core (no browser download), open a page that records console messages, page errors
// and request URLs, and save numbered screenshots into a temporary folder.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM} (scripts/setup installs it)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

/** A page plus what it said: {page, consoleLines, pageErrors, urls}. */
export async function openPage(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const consoleLines = [];
  const pageErrors = [];
  const urls = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('request', (r) => urls.push(r.url()));
  page.setDefaultTimeout(15000);
  await page.goto(url);
  return { context, page, consoleLines, pageErrors, urls };
}

/** A screenshot taker writing NN-name.png into dir (default: a fresh temp dir). */
export function screenshotter(prefix, dir = process.env.VMIG_SCREENSHOTS) {
  const out = dir || fs.mkdtempSync(path.join(os.tmpdir(), `vmig-${prefix}-shots-`));
  fs.mkdirSync(out, { recursive: true });
  let n = 0;
  const shoot = async (page, name) => {
    const file = path.join(out, `${prefix}-${String(++n).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
  shoot.dir = out;
  return shoot;
}
