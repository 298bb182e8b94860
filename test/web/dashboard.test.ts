import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecoveryFile } from '../../src/identity/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { runCli } from '../helpers/cli.js';
import { put, signup, type TestUser } from '../helpers/homeserver.js';

/**
 * The dashboard in Debian's Chromium (driven by playwright-core), served by a real daemon that
 * `pubky-backup open --print-url` starts, against a testnet. Screenshots go to
 * docs/screenshots/ (the README shows them).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '../../docs/screenshots');
const hasChromium = existsSync(CHROMIUM);

let testnet: Testnet;
let dataDir: string;
let browser: Browser;
let page: Page;
let dashboard: string;
let user: TestUser;
const flags = () => ['--data-dir', dataDir, '--relay', testnet.relay.url, '--no-dht'];

beforeAll(async () => {
  if (!hasChromium) return;
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0, homeservers: 2 });
  user = await signup(testnet.homeserver);
  for (let i = 0; i < 5; i++)
    await put(testnet.homeserver, user, `/pub/example.com/post-${i}.json`, `{"n":${i}}`);
  dataDir = await mkdtemp(join(tmpdir(), 'pubky-dashboard-'));
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
}, 60_000);

afterAll(async () => {
  if (!hasChromium) return;
  await browser?.close();
  await runCli([...flags(), 'daemon', 'stop']);
  await testnet?.close();
});

/** A fresh one-time login link from the CLI (the daemon is started by the first one). */
async function loginLink(): Promise<string> {
  const result = await runCli([...flags(), '--json', 'open', '--print-url']);
  expect(result.code, result.stderr).toBe(0);
  const { url } = JSON.parse(result.stdout) as { url: string };
  dashboard = new URL('/', url).href;
  return url;
}

describe.skipIf(!hasChromium)('dashboard in Chromium', () => {
  it('refuses to work without the login cookie, and a login link works once', async () => {
    const link = await loginLink();
    await page.goto(dashboard);
    await expect.poll(() => page.getByText('This dashboard needs a login link').count()).toBe(1);
    const api = await page.request.get(`${dashboard}api/v1/status`);
    expect(api.status()).toBe(401);

    await page.goto(link);
    await page.getByLabel('Pubky', { exact: true }).waitFor();
    expect(page.url()).toBe(dashboard);
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name.includes('session'))).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });

    const other = await browser.newPage();
    const again = await other.goto(link);
    expect(again?.status()).toBe(403);
    await other.close();
  });

  it('an invalid pubky shows the parser message and adds nothing', async () => {
    const field = page.getByLabel('Pubky', { exact: true });
    await field.fill('pk:not-a-valid-key');
    const check = page.locator('#add-pubky-check');
    await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true');
    const message = (await check.textContent()) ?? '';
    const cli = await runCli(['--json', 'check-key', 'pk:not-a-valid-key']);
    expect(message).toBe(JSON.parse(cli.stdout).error.message);
    expect(await page.getByRole('button', { name: 'Add' }).isDisabled()).toBe(true);
    await field.press('Enter');
    await page.screenshot({ path: join(SHOTS, 'add-error.png') });
    expect(await page.locator('li.key').count()).toBe(0);
  });

  it('a testnet user added from a pasted profile link reaches Synced without a reload; a PUT raises its file count live', async () => {
    await page.getByLabel('Pubky', { exact: true }).fill(`https://pubky.app/profile/${user.z32}`);
    await expect.poll(() => page.locator('#add-pubky-check').textContent()).toContain(user.z32);
    await page.getByLabel('Homeserver (optional)').fill(testnet.homeserver.url);
    await page.getByRole('button', { name: 'Add' }).click();
    const row = page.locator(`li.key[data-pubky="${user.z32}"]`);
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 20_000 }).toBe('Synced');
    await expect.poll(() => row.locator('.files').textContent()).toBe('5');
    expect(await row.getByText(user.z32).count()).toBe(1);

    await put(testnet.homeserver, user, '/pub/example.com/new.json', '{"new":true}');
    await expect.poll(() => row.locator('.files').textContent(), { timeout: 20_000 }).toBe('6');
    await page.screenshot({ path: join(SHOTS, 'keys.png') });
  });

  it('Force sync runs and the row stays Synced', async () => {
    const row = page.locator(`li.key[data-pubky="${user.z32}"]`);
    await put(testnet.homeserver, user, '/pub/example.com/forced.json', '{}');
    await row.getByRole('button', { name: 'Force sync' }).click();
    await expect.poll(() => row.locator('.files').textContent()).toBe('7');
    expect(await row.getAttribute('data-status')).toBe('Synced');
  });

  it('key detail: create a snapshot and see it listed; its check says intact', async () => {
    await page.locator(`li.key[data-pubky="${user.z32}"]`).getByRole('link', { name: 'Open' }).click();
    await page.getByRole('heading', { name: 'Snapshots' }).waitFor();
    await page.getByRole('button', { name: 'Create snapshot' }).click();
    const listed = page.locator('li.snapshot');
    await expect.poll(() => listed.count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'created' }).count()).toBe(1);
    const name = (await listed.first().getAttribute('data-name')) ?? '';
    expect(name).toMatch(/\.zip$/);
    expect((await stat(join(dataDir, 'keys', user.z32, 'snapshots', name))).size).toBeGreaterThan(0);
    await listed
      .first()
      .getByRole('button', { name: `Check ${name}` })
      .click();
    await expect.poll(() => listed.first().textContent()).toContain('intact: 7 entries');

    // The download link serves the archive itself (same origin, the session cookie).
    const download = await page.request.get(`${dashboard}api/v1/keys/${user.z32}/snapshots/${name}`);
    expect(download.status()).toBe(200);
    expect((await download.body()).subarray(0, 2).toString()).toBe('PK');
    // The activity feed shows the sync as it happened.
    expect(await page.locator('ol.activity li').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'key-detail.png'), fullPage: true });
  });

  it('verify: a clean report, then the file changed behind the feed is named', async () => {
    // Still on the key detail page.
    const verify = page.getByRole('region', { name: 'Verify' });
    await verify.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect
      .poll(() => verify.getByRole('status').textContent(), { timeout: 20_000 })
      .toMatch(/^Identical: all \d+ files match the homeserver\.$/);
    await testnet.homeserver.tamperFile(user.z32, '/pub/example.com/post-1.json', {
      mode: 'replace',
      body: new TextEncoder().encode('{"n":"changed behind the feed"}'),
    });
    await verify.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect
      .poll(() => verify.getByRole('status').textContent(), { timeout: 20_000 })
      .toBe('Differences: 0 missing, 1 changed, 0 not backed up, 0 unverifiable.');
    expect(await verify.locator('ul.findings').textContent()).toContain('/pub/example.com/post-1.json');
    await page.screenshot({ path: join(SHOTS, 'verify.png'), fullPage: true });
  });

  it('migrate: the plan first, then with the recovery file the run, its steps and the verify on the new homeserver', async () => {
    const exit = page.getByRole('region', { name: 'Restore or migrate' });
    const target = testnet.homeservers[1] as Homeserver;
    await exit.getByLabel('Target homeserver').fill(target.publicKey.z32);
    await exit.getByRole('button', { name: 'Show plan' }).click();
    await expect
      .poll(() => exit.getByRole('heading', { name: 'Plan (nothing done yet)' }).count(), { timeout: 20_000 })
      .toBe(1);
    expect(await exit.textContent()).toMatch(/Would upload \d+ of \d+ files/);
    // Without the recovery file the real run cannot be started.
    expect(await exit.getByRole('button', { name: 'Migrate', exact: true }).isDisabled()).toBe(true);
    const recovery = await createRecoveryFile(user.keypair, 'dashboard passphrase');
    await exit.getByLabel('Recovery file').setInputFiles({
      name: 'user.pkarr',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(recovery),
    });
    await exit.getByLabel('Passphrase').fill('dashboard passphrase');
    await exit.getByRole('button', { name: 'Migrate', exact: true }).click();
    await expect
      .poll(() => exit.getByRole('heading', { name: 'Done', exact: true }).count(), { timeout: 60_000 })
      .toBe(1);
    expect(await exit.textContent()).toContain('Verify on the target: identical');
    // The key follows the new homeserver now.
    await expect
      .poll(() => page.locator('dl.facts').textContent(), { timeout: 20_000 })
      .toContain(`:${new URL(target.url).port} (pinned)`);
    await page.screenshot({ path: join(SHOTS, 'migrate.png'), fullPage: true });
  });

  it('settings: a changed sync interval is saved to config.json; a bad value is refused with the reason', async () => {
    // A step that stalls fails within 30 s naming itself (this test once ran into the 60 s limit
    // under CI load, with no sign of which step waited).
    page.setDefaultTimeout(30_000);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings', exact: true }).waitFor();
    await page.getByLabel('Sync interval').selectOption({ label: '5 minutes' });
    await expect
      .poll(async () => JSON.parse(await readFile(join(dataDir, 'config.json'), 'utf8')).syncIntervalSeconds)
      .toBe(300);
    await page.getByLabel('Downloads at once').fill('500');
    await page.getByLabel('Downloads at once').press('Tab');
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/downloadConcurrency/);
    expect(JSON.parse(await readFile(join(dataDir, 'config.json'), 'utf8')).downloadConcurrency).toBe(8);
  });

  it('works at 360 px: no sideways scrolling on the keys page', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(dashboard);
    await page.locator(`li.key[data-pubky="${user.z32}"]`).waitFor();
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, 'keys-360.png'), fullPage: true });
  });

  it('first load is under 200 KB and nothing is requested from elsewhere', async () => {
    const fresh = await browser.newPage();
    await fresh.context().addCookies(await page.context().cookies());
    const requests: string[] = [];
    let bytes = 0;
    fresh.on('request', (request) => requests.push(request.url()));
    fresh.on('response', async (response) => {
      // The event stream never ends: it counts by what it has sent, not by its body.
      if (response.url().includes('/api/v1/events')) return;
      bytes += (await response.body().catch(() => Buffer.alloc(0))).length;
    });
    await fresh.goto(dashboard);
    await fresh.locator('li.key').first().waitFor();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await fresh.close();
    expect(requests.every((url) => url.startsWith(dashboard))).toBe(true);
    expect(bytes).toBeLessThan(200_000);
  });
});
