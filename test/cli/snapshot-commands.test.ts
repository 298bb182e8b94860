import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/index.js';
import { listSnapshots, runSnapshotSchedule } from '../../src/snapshot/index.js';
import { KeyLayout } from '../../src/store/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { runCli } from '../helpers/cli.js';
import { startHomeserver, type TestUser } from '../helpers/homeserver.js';
import { backupOf, newUserWithFiles } from '../helpers/sync.js';

let hs: Homeserver;
let user: TestUser;
let dataDir: string;
beforeAll(async () => {
  hs = await startHomeserver();
  user = await newUserWithFiles(hs, { '/pub/a.txt': 'alpha', '/pub/dir/b.txt': 'beta' });
  dataDir = await backupOf([{ hs, user }]);
  expect((await runCli(['--data-dir', dataDir, 'sync', '--once'])).code).toBe(0);
});
afterAll(() => hs.close());

describe('pubky-backup snapshot', () => {
  it('create, list, check, extract', async () => {
    const created = await runCli(['--json', '--data-dir', dataDir, 'snapshot', 'create']);
    expect(created.code).toBe(0);
    const [snap] = JSON.parse(created.stdout).snapshots;
    expect(snap).toMatchObject({ pubky: user.z32, files: 2 });
    expect(snap.name).toMatch(/^\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.\d{3}\.zip$/);

    const listed = await runCli(['--data-dir', dataDir, 'snapshot', 'list']);
    expect(listed.stdout).toContain(snap.name);

    const checked = await runCli(['--data-dir', dataDir, 'snapshot', 'check', snap.file]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/^ok: 2 files/);

    const out = await mkdtemp(join(tmpdir(), 'pubky-cli-extract-'));
    const extracted = await runCli(['--data-dir', dataDir, 'snapshot', 'extract', snap.file, out]);
    expect(extracted.code).toBe(0);
    expect((await readdir(join(out, 'pub'))).sort()).toEqual(['a.txt', 'dir']);
  });

  it('check exits 1 on a damaged archive and 2 on a file that is not a snapshot', async () => {
    const [snap] = await listSnapshots(new KeyLayout(dataDir, user.z32));
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(snap?.file as string);
    bytes[bytes.indexOf('alpha')] = 'A'.charCodeAt(0);
    const damaged = join(tmpdir(), `damaged-${Date.now()}.zip`);
    await writeFile(damaged, bytes);
    const result = await runCli(['--data-dir', dataDir, 'snapshot', 'check', damaged]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('hash-mismatch: pub/a.txt');
    const notZip = join(tmpdir(), `not-a-zip-${Date.now()}.zip`);
    await writeFile(notZip, 'hello');
    const invalid = await runCli(['--data-dir', dataDir, 'snapshot', 'check', notZip]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('is not a readable ZIP archive');
  });

  it('prune needs a rule, and --dry-run deletes nothing', async () => {
    await runCli(['--data-dir', dataDir, 'snapshot', 'create']);
    const layout = new KeyLayout(dataDir, user.z32);
    const before = (await listSnapshots(layout)).length;
    expect(before).toBeGreaterThanOrEqual(2);
    const noRule = await runCli(['--data-dir', dataDir, 'snapshot', 'prune']);
    expect(noRule.code).toBe(2);
    expect(noRule.stderr).toContain('No retention rule');
    const dry = await runCli([
      '--json',
      '--data-dir',
      dataDir,
      'snapshot',
      'prune',
      '--keep-last',
      '1',
      '--dry-run',
    ]);
    expect(JSON.parse(dry.stdout).removed).toHaveLength(before - 1);
    expect((await listSnapshots(layout)).length).toBe(before);
    await runCli(['--data-dir', dataDir, 'snapshot', 'prune', '--keep-last', '1']);
    expect((await listSnapshots(layout)).length).toBe(1);
  });

  it('the schedule makes a snapshot when the newest is older than the period, then prunes', async () => {
    const layout = new KeyLayout(dataDir, user.z32);
    const clock = { now: new Date('2030-01-01T00:00:00Z') };
    const stop = new AbortController();
    const made: string[] = [];
    const schedule = runSnapshotSchedule({
      dataDir,
      pubkys: () => [user.z32],
      config: { ...DEFAULT_CONFIG.snapshots, every: 'hourly', keepLast: 2 },
      tool: 'test',
      signal: stop.signal,
      checkEveryMs: 20,
      now: () => clock.now,
      onSnapshot: (_pubky, created) => made.push(created.file),
    });
    const until = async (n: number) => {
      while (made.length < n) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await until(1);
    await new Promise((resolve) => setTimeout(resolve, 100)); // same hour: nothing new
    expect(made).toHaveLength(1);
    clock.now = new Date('2030-01-01T01:30:00Z');
    await until(2);
    clock.now = new Date('2030-01-01T03:00:00Z');
    await until(3);
    stop.abort();
    await schedule;
    const names = (await listSnapshots(layout)).map((s) => s.name);
    expect(names).toEqual(['2030-01-01_01-30-00.000.zip', '2030-01-01_03-00-00.000.zip']);
  });
});
