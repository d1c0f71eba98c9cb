/**
 * The operator page in a real browser: Debian's headless Chromium, driven by playwright-core,
 * against a node with an admin token, a community nothing listens on, and audited requests by the
 * test clinician. Signs in with the keyboard, sees the community down, finds the clinician's
 * events in the audit trail, and saves a screenshot (the README's docs/operator-page.png with
 * KOBLINGSPUNKT_UPDATE_SCREENSHOT=1).
 *
 * Chromium is not a package dependency: CI installs Debian's (`apt-get install chromium`). Without
 * it this test fails, never skips, so that the page cannot silently go untested.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import type { TestNode } from '../helpers/node.js';
import { ACTIONS, postRaw, soapContentType } from '../helpers/soap.js';
import { PRACTITIONER_NAME } from '../wiring/helpers.js';
import { ADMIN_TOKEN, DEAD_COMMUNITY_NAME, federatedQuery, populate, startAdminNode } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
/**
 * The screenshot goes to the temp folder on every run, so that a test run leaves the checkout as it
 * was; KOBLINGSPUNKT_UPDATE_SCREENSHOT=1 writes the one the README shows instead.
 */
const SCREENSHOT =
  process.env['KOBLINGSPUNKT_UPDATE_SCREENSHOT'] === '1'
    ? fileURLToPath(new URL('../../docs/operator-page.png', import.meta.url))
    : join(tmpdir(), `koblingspunkt-operator-page-${process.pid}.png`);

describe('operator page in headless Chromium', function () {
  this.timeout(30_000);
  let node: TestNode | undefined;
  let browser: Browser | undefined;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the operator page's browser test`);
    }
    node = await startAdminNode();
    await populate(node);
    await federatedQuery(node);
    // A malformed request, answered with a SOAP fault: an error in the rate plot.
    await postRaw(`${node.url}${node.config.endpoints.registry}`, '<not-soap', soapContentType(ACTIONS.iti18.request));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await node?.close();
  });

  it('signs in, shows the dead community down, finds audit events by practitioner, and saves a screenshot', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 }, locale: 'nb-NO', timezoneId: 'Europe/Oslo' });
    // A script error or a CSP violation shows up here: the page must run with none.
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      // The wrong token's 401 below is Chromium's to report; anything else is a problem.
      if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(m.text());
    });
    await page.goto(`${node!.url}/admin`);

    // A wrong token is refused with a message, and the form is offered again.
    await page.getByLabel('Admin token').fill('not-the-token-but-long-enough-to-send-0000');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Wrong token' }).waitFor();
    expect(await page.locator('#app').isHidden()).to.equal(true);

    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    const row = page.locator('#communities tbody tr', { hasText: DEAD_COMMUNITY_NAME });
    await row.waitFor();
    expect((await row.locator('.badge').textContent())?.trim()).to.equal('down');
    expect(await row.textContent()).to.match(/ECONNREFUSED/);
    // The federated query's call to it failed: the node's call statistics say so.
    expect(await row.textContent()).to.match(/last failed/);
    await page.locator('#rates-status', { hasText: /\d+ requests, [1-9]\d* errors?/ }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('koblingspunkt.admin.token'))).to.equal(ADMIN_TOKEN);

    // The audit search, with the keyboard: type into the labelled field and press Enter.
    await page.getByLabel('Practitioner').fill('øvergård');
    await page.getByLabel('Practitioner').press('Enter');
    await page.locator('#audit-status', { hasText: /events?, newest first/ }).waitFor();
    const events = page.locator('#audit tbody tr');
    const texts = await events.allTextContents();
    expect(texts.length).to.be.greaterThan(1);
    for (const text of texts) expect(text).to.include(PRACTITIONER_NAME);
    expect(texts.join('\n')).to.include('ITI-18').and.to.include('ITI-41');

    // The controls are real buttons, focusable and pressed with the keyboard: the probe runs again.
    const probe = page.getByRole('button', { name: 'Probe now' });
    await probe.focus();
    await page.keyboard.press('Space');
    await page.locator('#communities-status', { hasText: '0 up, 1 down' }).waitFor();
    expect(await page.getByRole('button', { name: 'Search' }).evaluate((b) => b.tagName)).to.equal('BUTTON');

    expect(problems).to.deep.equal([]);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
  });
});
