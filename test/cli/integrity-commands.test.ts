import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storePathOf } from '../../src/store/index.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { BIN, runCli } from '../helpers/cli.js';
import { put, signup, type TestUser } from '../helpers/homeserver.js';

let testnet: Testnet;
beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
});
afterAll(() => testnet.close());

const PROFILE = '{"name":"Alice","bio":"original bio"}';

/** A user with a few files, backed up once into a new data folder. */
async function backedUp(files: Record<string, string> = { '/pub/pubky.app/profile.json': PROFILE }) {
  const user = await signup(testnet.homeserver);
  for (const [path, body] of Object.entries(files)) await put(testnet.homeserver, user, path, body);
  const dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-integrity-'));
  const cli = (...args: string[]) => runCli(['--data-dir', dataDir, ...args]);
  expect((await cli('add', user.z32, '--homeserver', testnet.homeserver.url)).code).toBe(0);
  expect((await cli('sync', '--once')).code).toBe(0);
  const keyDir = join(dataDir, 'keys', user.z32);
  return { user, dataDir, keyDir, cli };
}

const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) as string);

describe('local corruption is found, never archived as good, and repaired', () => {
  it('a file overwritten by hand: check, snapshot, reindex and sync all see it', async () => {
    const { user, keyDir, cli } = await backedUp();
    const file = join(keyDir, 'data/pub/pubky.app/profile.json');
    await writeFile(file, 'damaged bytes!!');

    const check = await cli('check');
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/data: damaged: \/pub\/pubky\.app\/profile\.json/);

    const snapshot = await cli('--json', 'snapshot', 'create');
    expect(snapshot.code).toBe(1);
    const created = json(snapshot.stdout).snapshots[0];
    expect(created.damaged).toEqual([
      expect.objectContaining({ path: '/pub/pubky.app/profile.json', problem: 'damaged' }),
    ]);
    const snapshotCheck = await cli('--json', 'snapshot', 'check', created.file);
    expect(snapshotCheck.code).toBe(1);
    expect(json(snapshotCheck.stdout)).toMatchObject({
      ok: false,
      problems: [expect.objectContaining({ problem: 'damaged-when-archived' })],
    });

    const reindex = await cli('reindex', user.z32);
    expect(reindex.code).toBe(1);
    expect(reindex.stdout).toContain('changed: /pub/pubky.app/profile.json');
    expect(reindex.stdout).toContain('NOT adopted');

    const sync = await cli('sync', '--once');
    expect(sync.code).toBe(0);
    expect(sync.stdout).toContain('1 damaged on this disk, fetched again');
    expect(await readFile(file, 'utf8')).toBe(PROFILE);
    const versions = await readdir(join(keyDir, 'versions/pub/pubky.app'));
    expect(versions).toHaveLength(1);
    expect(await readFile(join(keyDir, 'versions/pub/pubky.app', versions[0] as string), 'utf8')).toBe(
      'damaged bytes!!',
    );
    // The data is whole again; the snapshot taken meanwhile still says what it archived.
    const after = json((await cli('--json', 'check')).stdout).keys[0].problems;
    expect(after).toEqual([expect.objectContaining({ area: 'snapshots', problem: 'damaged-when-archived' })]);
  });

  it('corruption drill: damage, delete and truncate in data/, versions/ and a snapshot; check finds all; --repair fixes data', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 6 }, (_, i) => [`/pub/app/f${i}.txt`, `file ${i} `.repeat(50)]),
    );
    const { user, keyDir, cli } = await backedUp(files);
    // Two versions kept by real overwrites.
    await put(testnet.homeserver, user as TestUser, '/pub/app/f0.txt', 'new 0');
    await put(testnet.homeserver, user as TestUser, '/pub/app/f1.txt', 'new 1');
    expect((await cli('sync', '--once')).code).toBe(0);
    const snapshot = json((await cli('--json', 'snapshot', 'create')).stdout).snapshots[0].file as string;
    const data = (name: string) => join(keyDir, 'data/pub/app', name);
    const versionDir = join(keyDir, 'versions/pub/app');
    const [v0, v1] = (await readdir(versionDir)).sort();

    await writeFile(data('f2.txt'), 'X'.repeat(`file 2 `.repeat(50).length)); // same size, other bytes
    await rm(data('f3.txt'));
    await truncate(data('f4.txt'), 10);
    await writeFile(data('stray.txt'), 'not from the homeserver');
    await truncate(join(versionDir, v0 as string), 3);
    await rm(join(versionDir, v1 as string));
    const zip = await readFile(snapshot);
    zip[200] = zip[200] === 0x41 ? 0x42 : 0x41; // inside the first entry's bytes
    await writeFile(snapshot, zip);

    const found = await cli('--json', 'check', '--read-data');
    expect(found.code).toBe(1);
    const problems = json(found.stdout).keys[0].problems as Array<{
      area: string;
      item: string;
      problem: string;
    }>;
    const summary = problems.map((p) => `${p.area} ${p.problem} ${p.item.split('/').at(-1)}`).sort();
    expect(summary).toEqual(
      [
        'data damaged f2.txt',
        'data damaged f4.txt',
        'data missing f3.txt',
        'data not-indexed stray.txt',
        `versions damaged ${v0}`,
        `versions missing ${v1}`,
        `snapshots hash-mismatch ${snapshot.split('/').at(-1)}`,
      ].sort(),
    );

    const repaired = await cli('--json', 'check', '--repair');
    expect(repaired.code).toBe(1); // the versions and the snapshot cannot be fetched again
    const left = json(repaired.stdout).keys[0].problems as Array<{ area: string }>;
    expect(left.every((p) => p.area !== 'data')).toBe(true);
    for (const i of [2, 3, 4])
      expect(await readFile(data(`f${i}.txt`), 'utf8')).toBe(`file ${i} `.repeat(50));
    expect(existsSync(data('stray.txt'))).toBe(false); // not on the homeserver: moved to versions/
    expect((await readdir(versionDir)).some((name) => name.startsWith('stray.txt~'))).toBe(true);
    expect((await cli('snapshot', 'check', snapshot)).code).toBe(1);
  });
});

describe('what the QA drills found (each a regression test)', () => {
  it('a file deleted on the homeserver stays deleted: no replay turns it into a failure', async () => {
    const { user, cli } = await backedUp({ '/pub/x/gone.txt': 'soon gone', '/pub/x/stays.txt': 'stays' });
    const response = await tenantFetchDelete(user, '/pub/x/gone.txt');
    expect(response).toBe(204);
    expect((await cli('sync', '--once')).stdout).toContain('1 deleted');
    for (let run = 0; run < 2; run++) {
      const again = await cli('sync', '--once');
      expect(again.code, again.stdout).toBe(0);
      expect(again.stdout).not.toContain('failing');
    }
  });

  it('a restored version is not undone by the next sync', async () => {
    const { user, keyDir, cli } = await backedUp({ '/pub/x/keep.txt': 'keep' });
    await put(testnet.homeserver, user, '/pub/x/keep.txt', 'keep v2');
    expect((await cli('sync', '--once')).code).toBe(0);
    expect((await cli('versions', 'restore', user.z32, '/pub/x/keep.txt')).code).toBe(0);
    expect((await cli('sync', '--once')).code).toBe(0);
    expect(await readFile(join(keyDir, 'data/pub/x/keep.txt'), 'utf8')).toBe('keep');
  });

  it('bit rot that changes neither size nor mtime: found by --read-data, repaired by --read-data --repair', async () => {
    const { keyDir, cli } = await backedUp({ '/pub/x/rot.bin': 'AAAAAAAAAAAAAAAA' });
    const file = join(keyDir, 'data/pub/x/rot.bin');
    const { stat, utimes } = await import('node:fs/promises');
    const before = await stat(file);
    await writeFile(file, 'AAAAAAAABAAAAAAA');
    await utimes(file, before.atime, before.mtime);
    expect((await cli('check', '--read-data')).code).toBe(1);
    const repaired = await cli('check', '--read-data', '--repair');
    expect(repaired.code, repaired.stdout).toBe(0);
    expect(repaired.stdout).toContain('repair: 1 fetched again from the homeserver');
    expect(await readFile(file, 'utf8')).toBe('AAAAAAAAAAAAAAAA');
  });

  it('extract reports entries recorded as damaged (exit 1); a truncated archive is damaged for extract too', async () => {
    const { keyDir, cli } = await backedUp({ '/pub/x/a.txt': 'aaaa' });
    await writeFile(join(keyDir, 'data/pub/x/a.txt'), 'bbbb');
    const snapshot = json((await cli('--json', 'snapshot', 'create')).stdout).snapshots[0].file as string;
    const out = await mkdtemp(join(tmpdir(), 'pubky-extract-'));
    const extracted = await cli('--json', 'snapshot', 'extract', snapshot, out);
    expect(extracted.code).toBe(1);
    expect(json(extracted.stdout)).toMatchObject({ ok: false, damaged: ['pub/x/a.txt'] });
    const cut = join(keyDir, 'cut.zip');
    const bytes = await readFile(snapshot);
    await writeFile(cut, bytes.subarray(0, bytes.length - 30));
    const partial = await cli(
      '--json',
      'snapshot',
      'extract',
      cut,
      await mkdtemp(join(tmpdir(), 'pubky-extract-')),
    );
    expect(partial.code).toBe(1);
    expect(json(partial.stdout).failed[0].reason).toMatch(/cut short/);
  });

  it('prune never gives up a good snapshot for a damaged one', async () => {
    const { keyDir, cli } = await backedUp({ '/pub/x/a.txt': 'aaaa' });
    const good = json((await cli('--json', 'snapshot', 'create')).stdout).snapshots[0].file as string;
    const bad = json((await cli('--json', 'snapshot', 'create')).stdout).snapshots[0].file as string;
    await truncate(bad, 100);
    const pruned = await cli('snapshot', 'prune', '--keep-last', '1');
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain('damaged');
    expect(existsSync(good)).toBe(true);
    expect(existsSync(bad)).toBe(true);
    expect(keyDir).toBeTruthy();
  });

  it('check on a data folder that does not exist yet: a plain answer, no stack trace', async () => {
    const fresh = join(await mkdtemp(join(tmpdir(), 'pubky-fresh-')), 'not-yet');
    const result = await runCli(['--data-dir', fresh, 'check']);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

async function tenantFetchDelete(user: TestUser, path: string): Promise<number> {
  const response = await fetch(`${testnet.homeserver.url}${path}`, {
    method: 'DELETE',
    headers: { 'pubky-host': user.z32, cookie: user.cookie },
  });
  await response.arrayBuffer();
  return response.status;
}

describe('versions', () => {
  it('only real versions are kept: an interrupted first backup downloads nothing twice, versions nothing', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`/pub/app/${i}.bin`, `bytes ${i}`]),
    );
    const { keyDir, cli } = await backedUp(files);
    // A crash before the index and cursor were written: every file on disk, no index.
    await rm(join(keyDir, 'state/index.jsonl'));
    await rm(join(keyDir, 'state/cursor'));
    const again = await cli('--json', 'sync', '--once');
    expect(json(again.stdout).keys[0]).toMatchObject({ stored: 0, unchanged: 20 });
    expect(existsSync(join(keyDir, 'versions'))).toBe(false);
  });

  it('list, restore (the current copy becomes a version), prune by age', async () => {
    const { user, keyDir, cli } = await backedUp({ '/pub/app/doc.txt': 'v1' });
    for (const body of ['v2', 'v3']) {
      await put(testnet.homeserver, user, '/pub/app/doc.txt', body);
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct version times
      expect((await cli('sync', '--once')).code).toBe(0);
    }
    const listed = json(
      (await cli('--json', 'versions', 'list', user.z32, '/pub/app/doc.txt')).stdout,
    ).versions;
    expect(listed.map((v: { size: number }) => v.size)).toEqual([2, 2]);

    const restored = await cli(
      'versions',
      'restore',
      user.z32,
      '/pub/app/doc.txt',
      '--at',
      listed[0].versionedAt,
    );
    expect(restored.code).toBe(0);
    expect(await readFile(join(keyDir, 'data/pub/app/doc.txt'), 'utf8')).toBe('v1');
    const after = json((await cli('--json', 'versions', 'list', user.z32)).stdout).versions;
    expect(after).toHaveLength(3); // v3 kept as a version of its own
    expect((await cli('check')).code).toBe(0); // the index follows the restored bytes

    const none = await cli('versions', 'restore', user.z32, '/pub/app/nothing.txt');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no previous versions');

    // An old version (by its name) goes with prune; recent ones stay.
    await writeFile(join(keyDir, 'versions/pub/app/doc.txt~2001-01-01_00-00-00.000'), 'ancient');
    const dry = await cli('versions', 'prune', '--dry-run');
    expect(dry.stdout).toContain('would delete  2001-01-01T00:00:00.000Z  /pub/app/doc.txt');
    expect(existsSync(join(keyDir, 'versions/pub/app/doc.txt~2001-01-01_00-00-00.000'))).toBe(true);
    expect((await cli('versions', 'prune')).stdout).toContain('1 versions deleted, 3 kept');
    expect(existsSync(join(keyDir, 'versions/pub/app/doc.txt~2001-01-01_00-00-00.000'))).toBe(false);
    expect((await cli('config', 'set', 'versions.keepDays', '0')).code).toBe(0);
    expect((await cli('versions', 'prune')).stdout).toContain('keeping all');
  });
});

describe('snapshots tell the truth', () => {
  it('a truncated archive is damaged (exit 1), not "not a snapshot"; a file that is no ZIP is exit 2', async () => {
    const { keyDir, cli } = await backedUp();
    const snapshot = json((await cli('--json', 'snapshot', 'create')).stdout).snapshots[0].file as string;
    const cut = join(keyDir, 'cut.zip');
    const bytes = await readFile(snapshot);
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const checked = await cli('--json', 'snapshot', 'check', cut);
    expect(checked.code).toBe(1);
    expect(json(checked.stdout)).toMatchObject({ ok: false, problems: [{ problem: 'archive-damaged' }] });
    await writeFile(join(keyDir, 'not.zip'), 'hello');
    expect((await cli('snapshot', 'check', join(keyDir, 'not.zip'))).code).toBe(2);
  });

  it('long and odd names the homeserver accepts survive backup, snapshot and extract; extract goes on past damage', async () => {
    const long = `${'n'.repeat(247)}.txt`; // 251 bytes
    const colons = `${'a:'.repeat(115)}`; // 230 characters, 345 bytes once escaped
    const files = {
      [`/pub/app/${long}`]: 'long',
      [`/pub/app/${colons}`]: 'colons',
      '/pub/app/plain.txt': 'PLAIN-CONTENT',
      '/pub/app/other.txt': 'other',
    };
    const { keyDir, cli } = await backedUp(files);
    const snapshot = json((await cli('--json', 'snapshot', 'create')).stdout).snapshots[0];
    expect(snapshot.files).toBe(4);
    const out = await mkdtemp(join(tmpdir(), 'pubky-extract-'));
    const extracted = await cli('--json', 'snapshot', 'extract', snapshot.file, out);
    expect(extracted.code).toBe(0);
    expect(json(extracted.stdout)).toMatchObject({ files: 4, failed: [] });
    // Laid out as in data/: the 251-byte name is cut at 224 bytes (documented mapping).
    const stored = storePathOf(['pub', 'app', long]).slice('data/'.length);
    expect(stored).toMatch(/%2F\/n+\.txt$/);
    expect(await readFile(join(out, stored), 'utf8')).toBe('long');
    expect(await readFile(join(out, storePathOf(['pub', 'app', colons]).slice('data/'.length)), 'utf8')).toBe(
      'colons',
    );

    // Damage one entry's bytes: the others are still extracted, the damaged one is reported.
    const bytes = await readFile(snapshot.file);
    const at = bytes.indexOf(Buffer.from('PLAIN-CONTENT'));
    bytes[at] = 0x70;
    const damaged = join(keyDir, 'damaged.zip');
    await writeFile(damaged, bytes);
    const out2 = await mkdtemp(join(tmpdir(), 'pubky-extract-'));
    const partial = await cli('--json', 'snapshot', 'extract', damaged, out2);
    expect(partial.code).toBe(1);
    const result = json(partial.stdout);
    expect(result.files).toBe(3);
    expect(result.failed).toEqual([expect.objectContaining({ entry: 'pub/app/plain.txt' })]);
    expect(existsSync(join(out2, 'pub/app/plain.txt'))).toBe(false);
  });
});

describe('interrupted commands say what they finished and what is left', () => {
  it('Ctrl-C during sync --once: exit 130 with a summary; the next run continues', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`/pub/slow/${i}.txt`, `slow ${i}`]),
    );
    const user = await signup(testnet.homeserver);
    for (const [path, body] of Object.entries(files)) await put(testnet.homeserver, user, path, body);
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-backup-interrupt-'));
    await runCli(['--data-dir', dataDir, 'add', user.z32, '--homeserver', testnet.homeserver.url]);
    const remove = testnet.homeserver.faults.add({
      route: 'read',
      user: user.z32,
      fault: { kind: 'latency', ms: 400 },
    });
    try {
      const child = spawn(process.execPath, [BIN, '--data-dir', dataDir, 'sync', '--once'], {
        env: { ...process.env, PUBKY_RELAYS: '', PUBKY_BACKUP_HOME: '' },
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      child.kill('SIGINT');
      const code = await new Promise((resolve) => child.on('exit', resolve));
      expect(code).toBe(130);
      expect(stderr).toMatch(/interrupted:\n.* files downloaded before the stop; .*cursor/);
      expect(stderr).toContain('run `pubky-backup sync --once` again to continue');
    } finally {
      remove();
    }
    const rest = await runCli(['--data-dir', dataDir, '--json', 'sync', '--once']);
    expect(rest.code).toBe(0);
    const total = json(rest.stdout).keys[0];
    expect(total.stored + total.unchanged).toBe(30);
    expect(existsSync(join(dataDir, 'keys', user.z32, 'versions'))).toBe(false);
  });
});
