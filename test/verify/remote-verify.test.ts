import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomeserverClient, HomeserverError } from '../../src/homeserver/index.js';
import { KeyLayout } from '../../src/store/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import {
  KEPT_VERIFY_REPORTS,
  latestVerifySummary,
  saveVerifyReport,
  verifyAgainstHomeserver,
} from '../../src/verify/index.js';
import { startFakeHomeserver } from '../helpers/fake-homeserver.js';
import { deadRelayUrl } from '../helpers/fake-relay.js';
import { blake3Base64, put, startHomeserver, type TestUser } from '../helpers/homeserver.js';
import { backupOf, newUserWithFiles, openManager } from '../helpers/sync.js';

// verify: the backup against what the homeserver serves now, by listing and ETags (or bytes).
let hs: Homeserver;
let user: TestUser;
let layout: KeyLayout;
let client: HomeserverClient;
beforeEach(async () => {
  hs = await startHomeserver();
  user = await newUserWithFiles(hs, {
    '/pub/app/a.txt': 'alpha',
    '/pub/app/b.txt': 'bravo',
    '/pub/app/c.txt': 'charlie',
    '/pub/app/d.txt': 'delta',
    '/pub/notes': 'a file and a folder',
    '/pub/notes/today': 'inside',
  });
  const dataDir = await backupOf([{ hs, user }]);
  layout = new KeyLayout(dataDir, user.z32);
  await (await openManager(dataDir, [user.z32])).syncOnce();
  client = new HomeserverClient({ baseUrl: hs.url });
});
afterEach(() => hs.close());

const verify = (readData = false) => verifyAgainstHomeserver({ client, layout, identity: hs.url, readData });
const problems = (report: Awaited<ReturnType<typeof verify>>) =>
  report.findings.map((f) => `${f.problem} ${f.path}`);

describe('verify against the homeserver', () => {
  it('identical: every file matched by its ETag, cursor at the feed head', async () => {
    const report = await verify();
    expect(report).toMatchObject({
      outcome: 'identical',
      counts: {
        backup: 6,
        homeserver: 6,
        identical: 6,
        missing: 0,
        changed: 0,
        notBackedUp: 0,
        unverifiable: 0,
      },
      cursor: { behind: false, fromOtherHomeserver: false, homeserverHead: String(hs.state.headCursor) },
      findings: [],
    });
  });

  it('names each difference: changed without a PUT, gone without a DEL, never backed up', async () => {
    await hs.tamperFile(user.z32, '/pub/app/a.txt', {
      mode: 'replace',
      body: new TextEncoder().encode('ALPHA!'),
    });
    await hs.tamperFile(user.z32, '/pub/app/b.txt', { mode: 'remove' });
    await hs.tamperFile(user.z32, '/pub/app/new.txt', {
      mode: 'replace',
      body: new TextEncoder().encode('new'),
    });
    const report = await verify();
    expect(report.outcome).toBe('differences');
    expect(problems(report)).toEqual([
      'changed /pub/app/a.txt',
      'missing /pub/app/b.txt',
      'not-backed-up /pub/app/new.txt',
    ]);
    expect(report.findings[0]).toMatchObject({
      backup: { size: 5, blake3: await blake3Base64('alpha') },
      homeserver: { size: 6, blake3: await blake3Base64('ALPHA!') },
    });
    expect(report.findings[1]?.detail).toContain('without a DEL event');
    expect(report.cursor.behind).toBe(false); // tampering leaves no event
  });

  it('bit rot under the old ETag is only seen with --read-data, which says the ETag is stale', async () => {
    await hs.tamperFile(user.z32, '/pub/app/c.txt', { mode: 'corrupt' });
    expect((await verify()).outcome).toBe('identical');
    const report = await verify(true);
    expect(problems(report)).toEqual(['changed /pub/app/c.txt']);
    expect(report.findings[0]?.detail).toContain('storage is damaged');
    expect(report.bytesRead).toBeGreaterThan(0);
  });

  it('a backup behind the feed says that differences may be events not applied yet', async () => {
    await put(hs, user, '/pub/app/e.txt', 'echo');
    const report = await verify();
    expect(problems(report)).toEqual(['not-backed-up /pub/app/e.txt']);
    expect(report.cursor.behind).toBe(true);
    expect(report.notes.join(' ')).toMatch(/behind the homeserver's feed/);
    // Against another homeserver than the one synced from: the cursor means nothing there.
    const elsewhere = await verifyAgainstHomeserver({ client, layout, identity: 'http://elsewhere.example' });
    expect(elsewhere.cursor.fromOtherHomeserver).toBe(true);
  });

  it('a file the homeserver will not answer for is unverifiable; a 503 once is asked again', async () => {
    hs.faults.add({
      route: 'read',
      method: 'HEAD',
      path: '/pub/app/a.txt',
      fault: { kind: 'status', status: 500 },
    });
    hs.faults.add({
      route: 'read',
      method: 'HEAD',
      path: '/pub/app/b.txt',
      times: 1,
      fault: { kind: 'status', status: 503 },
    });
    const report = await verify();
    expect(problems(report)).toEqual(['unverifiable /pub/app/a.txt']);
    expect(report.findings[0]?.detail).toContain('500');
    expect(report.counts.identical).toBe(5);
  });

  it('a homeserver that goes away mid-verify ends it with an error (no report, nothing unhandled)', async () => {
    const dead = await verifyAgainstHomeserver({
      client: new HomeserverClient({ baseUrl: await deadRelayUrl() }),
      layout,
    }).catch((error: unknown) => error);
    expect(dead).toBeInstanceOf(HomeserverError);
    hs.faults.add({ route: 'read', method: 'HEAD', path: '/pub/app/c.txt', fault: { kind: 'reset' } });
    const reset = await verifyAgainstHomeserver({ client, layout, concurrency: 1 }).catch((e: unknown) => e);
    // A reset is a dropped connection, asked again once, then unverifiable: the rest is compared.
    expect(reset).toMatchObject({ counts: { unverifiable: 1, identical: 5 } });
  });

  it('a homeserver without ETags: every file unverifiable', async () => {
    const paths = [
      '/pub/app/a.txt',
      '/pub/app/b.txt',
      '/pub/app/c.txt',
      '/pub/app/d.txt',
      '/pub/notes',
      '/pub/notes/today',
    ];
    const fake = await startFakeHomeserver((url) =>
      url.pathname === '/pub/'
        ? { body: paths.map((p) => `pubky://${user.z32}${p}`).join('\n') }
        : { headers: { 'content-length': '5' } },
    );
    const report = await verifyAgainstHomeserver({
      client: new HomeserverClient({ baseUrl: fake.url }),
      layout,
    });
    expect(report.counts).toMatchObject({ unverifiable: 6, identical: 0 });
    expect(report.findings[0]?.detail).toContain('no ETag');
  });

  it('reports are kept in state/verify/ (the newest 10); status reads the newest in short', async () => {
    const report = await verify();
    for (let i = 0; i < KEPT_VERIFY_REPORTS + 2; i++) {
      await saveVerifyReport(layout, {
        ...report,
        checkedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      });
    }
    const last = await saveVerifyReport(layout, { ...report, outcome: 'differences' });
    const kept = await readdir(join(layout.stateDir, 'verify'));
    expect(kept).toHaveLength(KEPT_VERIFY_REPORTS);
    expect(kept).not.toContain('2026-01-01_00-00-00.000.json');
    expect(await latestVerifySummary(layout)).toMatchObject({ outcome: 'differences', file: last });
  });
});
