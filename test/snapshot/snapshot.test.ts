import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import {
  checkSnapshot,
  createSnapshot,
  extractSnapshot,
  listSnapshots,
  SnapshotError,
} from '../../src/snapshot/index.js';
import { BackupStore, KeyLayout } from '../../src/store/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { put, startHomeserver, type TestUser } from '../helpers/homeserver.js';
import { backupOf, newUserWithFiles, openManager } from '../helpers/sync.js';

let hs: Homeserver;
let user: TestUser;
let dataDir: string;
let layout: KeyLayout;
const FILES: Record<string, string | Uint8Array> = {
  '/pub/pubky.app/profile.json': '{"name":"snap"}',
  '/pub/pubky.app/posts/0001': 'first post',
  '/pub/notes/naïve café.txt': 'accents and spaces',
  '/pub/blobs/big.bin': new Uint8Array(2_000_000).map((_, i) => (i * 31) % 256),
};
beforeEach(async () => {
  hs = await startHomeserver();
  user = await newUserWithFiles(hs, FILES);
  dataDir = await backupOf([{ hs, user }]);
  layout = new KeyLayout(dataDir, user.z32);
  await (await openManager(dataDir, [user.z32])).syncOnce();
});
afterEach(() => hs.close());

const snapshot = (now?: Date) =>
  createSnapshot({
    layout,
    store: BackupStore.openFs(layout.keyDir),
    homeserver: hs.url,
    tool: 'pubky-backup test',
    now: now ? () => now : undefined,
  });

describe('snapshot create / list / check / extract', () => {
  it('writes snapshots/<UTC time>.zip with pub/… entries and a manifest; standard unzip reads it', async () => {
    const created = await snapshot(new Date('2026-11-27T23:05:06.789Z'));
    expect(created.name).toBe('2026-11-27_23-05-06.789.zip');
    expect(created).toMatchObject({ files: 4, cursor: String(hs.state.headCursor) });
    expect((await listSnapshots(layout)).map((s) => s.name)).toEqual([created.name]);

    const listing = execFileSync('zipinfo', ['-1', created.file], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .sort();
    expect(listing).toEqual(['manifest.json', ...Object.keys(FILES).map((p) => p.slice(1))].sort());
    expect(execFileSync('unzip', ['-t', created.file], { encoding: 'utf8' })).toContain('No errors detected');
    const out = await mkdtemp(join(tmpdir(), 'pubky-unzip-'));
    execFileSync('unzip', ['-q', created.file, '-d', out]);
    for (const [path, body] of Object.entries(FILES)) {
      expect(Buffer.compare(await readFile(join(out, path)), Buffer.from(body))).toBe(0);
    }
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'pubky-backup-snapshot',
      version: 1,
      pubky: user.z32,
      homeserver: hs.url,
      cursor: created.cursor,
      created_at: '2026-11-27T23:05:06.789Z',
      tool: 'pubky-backup test',
    });
    expect(manifest.files.find((f: { path: string }) => f.path === '/pub/blobs/big.bin')).toMatchObject({
      size: 2_000_000,
    });
    expect(await readFile(join(layout.keyDir, 'snapshots'), 'utf8').catch((e) => e.code)).toBe('EISDIR');
  });

  it('check passes on a good archive and finds a tampered byte', async () => {
    const created = await snapshot();
    expect((await checkSnapshot(created.file)).problems).toEqual([]);
    const bytes = await readFile(created.file);
    const at = bytes.indexOf('first post');
    bytes[at] = 'F'.charCodeAt(0);
    const tampered = join(layout.snapshotsDir, 'tampered.zip');
    await writeFile(tampered, bytes);
    const report = await checkSnapshot(tampered);
    expect(report.problems).toEqual([
      expect.objectContaining({ entry: 'pub/pubky.app/posts/0001', problem: 'hash-mismatch' }),
    ]);
  });

  it('extract writes dir/pub/… verified, byte-identical', async () => {
    const created = await snapshot();
    const out = await mkdtemp(join(tmpdir(), 'pubky-extract-'));
    const result = await extractSnapshot(created.file, out);
    expect(result.files).toBe(4);
    for (const [path, body] of Object.entries(FILES)) {
      expect(Buffer.compare(await readFile(join(out, path)), Buffer.from(body))).toBe(0);
    }
  });

  it('extract refuses a zip-slip archive and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubky-slip-'));
    const evil = join(dir, 'evil.zip');
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from('owned'), 'pub/bb/cc/evil.txt');
    zip.addBuffer(Buffer.from('{}'), 'manifest.json');
    zip.end();
    const out = createWriteStream(evil);
    zip.outputStream.pipe(out);
    await once(out, 'close');
    // yazl refuses such names, so patch them in: "pub/bb/cc/evil.txt" → "pub/../../evil.txt".
    const bytes = await readFile(evil);
    await writeFile(
      evil,
      Buffer.from(bytes.toString('latin1').replaceAll('pub/bb/cc/', 'pub/../../'), 'latin1'),
    );
    const target = join(dir, 'target');
    await mkdir(target);
    const error = await extractSnapshot(evil, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotError);
    expect(error).toMatchObject({ code: 'UNSAFE_ENTRY' });
    expect((error as Error).message).toContain('pub/../../evil.txt');
    expect(await readFile(join(dir, 'evil.txt')).catch((e) => e.code)).toBe('ENOENT');
  });

  it('a failed snapshot leaves nothing behind', async () => {
    const store = BackupStore.openFs(layout.keyDir);
    const failing = Object.assign(Object.create(Object.getPrototypeOf(store)), store, {
      read: () => {
        throw new Error('disk read error');
      },
    });
    await expect(createSnapshot({ layout, store: failing, homeserver: null, tool: 't' })).rejects.toThrow();
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(layout.snapshotsDir)).toEqual([]);
  });

  it('is consistent while sync runs: the archive is exactly the homeserver state at its cursor', async () => {
    const stop = new AbortController();
    const manager = await openManager(dataDir, [user.z32], { syncIntervalSeconds: 3600 });
    const running = manager.run(stop.signal);
    const writing = (async () => {
      for (let i = 0; i < 60; i++) {
        await put(hs, user, '/pub/counter.txt', `count ${i}`);
        await put(hs, user, `/pub/n/${i}`, `n${i}`);
      }
    })();
    const snapshots = [];
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 40));
      snapshots.push(await snapshot(new Date(Date.UTC(2026, 0, 1, 0, 0, i))));
    }
    await writing;
    stop.abort();
    await running;
    for (const created of snapshots) {
      const out = await mkdtemp(join(tmpdir(), 'pubky-consistent-'));
      await extractSnapshot(created.file, out);
      const manifest = JSON.parse(
        execFileSync('unzip', ['-p', created.file, 'manifest.json'], { encoding: 'utf8' }),
      );
      // Replay the homeserver's feed up to the snapshot's cursor: the same files exist in the archive,
      // each with the bytes of its version at the cursor or of a later one (a download fetches what
      // the homeserver serves then; it keeps no old versions to ask for).
      const cursor = Number(manifest.cursor);
      const existing = new Set<string>();
      for (const event of hs.state.events.slice(0, cursor)) {
        if (event.owner !== user.z32) continue;
        if (event.type === 'PUT') existing.add(event.path);
        else existing.delete(event.path);
      }
      const actual = new Map<string, string>(
        manifest.files.map((f: { path: string; blake3: string }) => [f.path, f.blake3]),
      );
      expect([...actual.keys()].sort()).toEqual([...existing].sort());
      for (const [path, blake3] of actual) {
        const puts = hs.state.events.filter(
          (e) => e.owner === user.z32 && e.path === path && e.type === 'PUT',
        );
        const atCursor = puts.filter((e) => e.id <= cursor).at(-1) as (typeof puts)[number];
        const allowed = puts.filter((e) => e.id >= atCursor.id).map((e) => e.contentHash);
        expect(allowed).toContain(blake3);
      }
      expect((await checkSnapshot(created.file)).problems).toEqual([]);
    }
  });
});

describe('snapshot leftovers', () => {
  it('an interrupted snapshot’s staging folder and temp archive are removed by the next one; a running one’s are not', async () => {
    const { mkdir: makeDir, readdir } = await import('node:fs/promises');
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number; // exited: its pid is free
    const leftovers = [
      `.staging-${dead}-0123abcd`,
      `.2020-01-01_00-00-00.000.zip.${dead}-0123abcd.tmp`,
      '.staging-89abcdef', // written by an older version, without a pid
    ];
    await makeDir(join(layout.snapshotsDir, leftovers[0] as string, 'data/pub'), { recursive: true });
    await writeFile(join(layout.snapshotsDir, leftovers[1] as string), 'partial');
    await makeDir(join(layout.snapshotsDir, leftovers[2] as string), { recursive: true });
    const running = `.staging-${process.ppid}-fedcba98`; // a live process's snapshot in progress
    await makeDir(join(layout.snapshotsDir, running), { recursive: true });
    const created = await snapshot();
    expect((await readdir(layout.snapshotsDir)).sort()).toEqual([running, created.name].sort());
  });
});

describe('interrupted and scheduled snapshots', () => {
  it('a snapshot stopped midway (Ctrl-C) leaves no temp archive and no staging folder', async () => {
    const { readdir } = await import('node:fs/promises');
    const controller = new AbortController();
    const stopped = createSnapshot({
      layout,
      store: BackupStore.openFs(layout.keyDir),
      homeserver: hs.url,
      tool: 'test',
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(stopped).rejects.toThrow();
    expect(await readdir(layout.snapshotsDir)).toEqual([]);
  });

  it('the schedule waits for the first completed catch-up and never writes an empty snapshot', async () => {
    const { runSnapshotSchedule } = await import('../../src/snapshot/index.js');
    const { signup } = await import('../helpers/homeserver.js');
    const fresh = await signup(hs);
    const freshDir = await backupOf([{ hs, user: fresh }]);
    const freshLayout = new KeyLayout(freshDir, fresh.z32);
    const runOnce = async (dir: string, pubky: string) => {
      const controller = new AbortController();
      const made: string[] = [];
      const schedule = runSnapshotSchedule({
        dataDir: dir,
        pubkys: () => [pubky],
        config: { every: 'hourly', keepLast: 2 },
        tool: 'test',
        signal: controller.signal,
        onSnapshot: (_, created) => made.push(created.file),
        checkEveryMs: 10,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort();
      await schedule;
      return made;
    };
    expect(await runOnce(freshDir, fresh.z32)).toEqual([]); // never synced
    await (await openManager(freshDir, [fresh.z32])).syncOnce();
    expect(await runOnce(freshDir, fresh.z32)).toEqual([]); // synced, but nothing to archive
    expect(await listSnapshots(freshLayout)).toEqual([]);
    await put(hs, fresh, '/pub/first.txt', 'first');
    await (await openManager(freshDir, [fresh.z32])).syncOnce();
    const made = await runOnce(freshDir, fresh.z32);
    expect(made).toHaveLength(1);
    expect((await checkSnapshot(made[0] as string)).entries).toBe(1);
  });
});
