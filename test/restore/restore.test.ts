import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomeserverClient } from '../../src/homeserver/index.js';
import {
  chooseSnapshot,
  openFolderSource,
  openMirrorSource,
  openRestoreSource,
  openSession,
  openSnapshotSource,
  RestoreError,
  RestoreJournal,
  restoreFiles,
  sourceSpecOf,
} from '../../src/restore/index.js';
import { createSnapshot, extractSnapshot } from '../../src/snapshot/index.js';
import { BackupStore, KeyLayout, storePathOf } from '../../src/store/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { caught } from '../helpers/errors.js';
import { put, signup, startHomeserver, type TestUser } from '../helpers/homeserver.js';
import { backupOf, newUserWithFiles, openManager } from '../helpers/sync.js';

// Restore core: a backed-up user's files go to another homeserver (the emulator), from the mirror,
// a snapshot or a folder; resumable, verified, never deleting unless asked.
const FILES: Record<string, string | Uint8Array> = {
  '/pub/pubky.app/profile.json': '{"name":"restore me"}',
  '/pub/pubky.app/posts/0001': 'first post',
  '/pub/notes': 'a file whose name is also a folder',
  '/pub/notes/today': 'a file inside it',
  '/pub/odd/naïve café.txt': 'accents and a space',
  [`/pub/odd/${'x'.repeat(250)}`]: 'a name longer than a stored name',
  '/pub/blobs/big.bin': new Uint8Array(1_500_000).map((_, i) => (i * 7) % 251),
};
/** Written through our client, which encodes names: a literal escape is a name, not `..`. */
const LITERAL = { path: '/pub/odd/%2e%2e and 100%', body: 'a literal escape in a name' };
const PATHS = [...Object.keys(FILES), LITERAL.path].sort();

let source: Homeserver;
let target: Homeserver;
let user: TestUser;
let dataDir: string;
let layout: KeyLayout;
let client: HomeserverClient;
beforeEach(async () => {
  source = await startHomeserver();
  target = await startHomeserver();
  user = await newUserWithFiles(source, FILES);
  await new HomeserverClient({ baseUrl: source.url }).put(
    { user: user.z32, cookie: user.cookie },
    LITERAL.path,
    new TextEncoder().encode(LITERAL.body),
  );
  dataDir = await backupOf([{ hs: source, user }]);
  layout = new KeyLayout(dataDir, user.z32);
  await (await openManager(dataDir, [user.z32])).syncOnce();
  client = new HomeserverClient({ baseUrl: target.url });
});
afterEach(async () => {
  await source.close();
  await target.close();
});

const putsOnTarget = () =>
  target.state
    .eventsOf(user.z32)
    .filter((e) => e.type === 'PUT')
    .map((e) => e.path);
const session = async () => (await openSession(client, user.keypair)).session;
async function served(hs: Homeserver, path: string): Promise<Buffer> {
  const response = await new HomeserverClient({ baseUrl: hs.url }).get(user.z32, path);
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('restore from the mirror', () => {
  it('signs the user up, uploads every file byte-identical (odd names too), once each', async () => {
    const opened = await openSession(client, user.keypair);
    expect(opened.signedUp).toBe(true);
    const mirror = await openMirrorSource(layout);
    expect(mirror.files.map((f) => f.path)).toEqual(PATHS);
    const progress: number[] = [];
    const summary = await restoreFiles({
      pubky: user.z32,
      source: mirror,
      client,
      session: opened.session,
      onProgress: (p) => progress.push(p.done),
    });
    expect(summary).toMatchObject({
      files: PATHS.length,
      uploaded: PATHS.length,
      alreadyThere: 0,
      failed: [],
    });
    expect(progress.at(-1)).toBe(PATHS.length);
    for (const path of PATHS) {
      expect((await served(target, path)).equals(await served(source, path)), path).toBe(true);
    }
    expect(putsOnTarget().sort()).toEqual(PATHS);

    // Run again: everything is there already (ETag = BLAKE3), nothing is uploaded.
    const again = await restoreFiles({ pubky: user.z32, source: mirror, client, session: await session() });
    expect(again).toMatchObject({ uploaded: 0, alreadyThere: PATHS.length });
    expect(putsOnTarget()).toHaveLength(PATHS.length);
    expect((await openSession(client, user.keypair)).signedUp).toBe(false);
  });

  it('resumes: files already on the target are skipped; a different copy there is replaced', async () => {
    const signedIn = await session();
    const cookieUser: TestUser = { ...user, cookie: signedIn.cookie };
    await put(
      target,
      cookieUser,
      '/pub/pubky.app/profile.json',
      FILES['/pub/pubky.app/profile.json'] as string,
    );
    await put(target, cookieUser, '/pub/pubky.app/posts/0001', 'an older version');
    const summary = await restoreFiles({
      pubky: user.z32,
      source: await openMirrorSource(layout),
      client,
      session: signedIn,
    });
    expect(summary).toMatchObject({ uploaded: PATHS.length - 1, alreadyThere: 1 });
    expect((await served(target, '/pub/pubky.app/posts/0001')).toString()).toBe('first post');
  });

  it('a file damaged in the backup is never uploaded (a large one is cut off before its last byte); the rest are', async () => {
    const small = join(layout.keyDir, storePathOf(['pub', 'pubky.app', 'posts', '0001']));
    await writeFile(small, 'first pOst'); // same size, other bytes: checked before sending
    const big = join(layout.keyDir, storePathOf(['pub', 'blobs', 'big.bin']));
    const bytes = await readFile(big);
    bytes[700_000] = (bytes[700_000] as number) ^ 1; // streamed: stopped before its last chunk
    await writeFile(big, bytes);
    const summary = await restoreFiles({
      pubky: user.z32,
      source: await openMirrorSource(layout),
      client,
      session: await session(),
    });
    expect(summary.uploaded).toBe(PATHS.length - 2);
    expect(summary.failed.map((f) => f.path).sort()).toEqual([
      '/pub/blobs/big.bin',
      '/pub/pubky.app/posts/0001',
    ]);
    for (const failure of summary.failed) expect(failure.reason).toContain('not the backed-up ones');
    for (const path of ['/pub/blobs/big.bin', '/pub/pubky.app/posts/0001']) {
      expect(target.state.filesOf(user.z32).get(path)).toBeUndefined();
      expect(putsOnTarget()).not.toContain(path);
    }
  });

  it('a 503 on one upload is retried; a target refusing writes stops the whole restore', async () => {
    target.faults.add({
      route: 'write',
      path: '/pub/pubky.app/posts/0001',
      times: 1,
      fault: { kind: 'status', status: 503 },
    });
    const summary = await restoreFiles({
      pubky: user.z32,
      source: await openMirrorSource(layout),
      client,
      session: await session(),
    });
    expect(summary).toMatchObject({ uploaded: PATHS.length, failed: [] });
    expect(putsOnTarget()).toHaveLength(PATHS.length);

    const other = await startHomeserver();
    try {
      const otherClient = new HomeserverClient({ baseUrl: other.url });
      const signedIn = (await openSession(otherClient, user.keypair)).session;
      other.setUserDisabled(user.z32, true);
      const error = await caught(
        restoreFiles({
          pubky: user.z32,
          source: await openMirrorSource(layout),
          client: otherClient,
          session: signedIn,
        }),
        RestoreError,
      );
      expect(error.code).toBe('WRITES_REFUSED');
      expect(error.message).toContain('disabled');
    } finally {
      await other.close();
    }
  });

  it('never deletes on the target unless asked; a dry run writes nothing', async () => {
    const signedIn = await session();
    await put(target, { ...user, cookie: signedIn.cookie }, '/pub/only-on-target.txt', 'extra');
    const plan = await restoreFiles({
      pubky: user.z32,
      source: await openMirrorSource(layout),
      client,
      dryRun: true,
    });
    expect(plan).toMatchObject({ dryRun: true, uploaded: PATHS.length, extra: 1, deleted: 0 });
    expect(putsOnTarget()).toEqual(['/pub/only-on-target.txt']);

    const kept = await restoreFiles({
      pubky: user.z32,
      source: await openMirrorSource(layout),
      client,
      session: signedIn,
    });
    expect(kept).toMatchObject({ extra: 1, extraPaths: ['/pub/only-on-target.txt'], deleted: 0 });
    expect(target.state.filesOf(user.z32).get('/pub/only-on-target.txt')).toBeDefined();
    const cleaned = await restoreFiles({
      pubky: user.z32,
      source: await openMirrorSource(layout),
      client,
      session: signedIn,
      deleteExtra: true,
    });
    expect(cleaned).toMatchObject({ uploaded: 0, extra: 1, deleted: 1 });
    expect(target.state.filesOf(user.z32).get('/pub/only-on-target.txt')).toBeUndefined();
  });

  it('keeps a journal per target: an interrupted run is counted by the next one', async () => {
    const journal = await RestoreJournal.open(layout, target.url, 'mirror');
    const controller = new AbortController();
    target.faults.add({ route: 'write', fault: { kind: 'latency', ms: 100 } });
    const run = restoreFiles({
      pubky: user.z32,
      source: await openMirrorSource(layout),
      client,
      session: await session(),
      concurrency: 1,
      journal,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === 3) controller.abort(new Error('interrupted'));
      },
    });
    await expect(run).rejects.toThrow('interrupted');
    target.faults.clear();
    const uploadedBefore = putsOnTarget().length;
    const next = await RestoreJournal.open(layout, target.url, 'mirror');
    expect(next.previous).toBe(uploadedBefore);
    const summary = await restoreFiles({
      pubky: user.z32,
      source: await openMirrorSource(layout),
      client,
      session: await session(),
      journal: next,
    });
    expect(summary.resumedAfter).toBe(uploadedBefore);
    expect(summary.alreadyThere).toBe(uploadedBefore);
    expect(putsOnTarget().sort()).toEqual(PATHS);
    expect(await readFile(next.file, 'utf8')).toContain('"finished"');
    expect((await RestoreJournal.open(layout, target.url, 'mirror')).previous).toBe(0);
  });
});

describe('restore from a snapshot or a folder (the old homeserver not needed)', () => {
  it('a snapshot: verified against its manifest; the newest by default, --at picks by time', async () => {
    const store = BackupStore.openFs(layout.keyDir);
    const older = await createSnapshot({
      layout,
      store,
      homeserver: source.url,
      tool: 't',
      now: () => new Date('2026-01-01T00:00:00Z'),
    });
    const newer = await createSnapshot({
      layout,
      store,
      homeserver: source.url,
      tool: 't',
      now: () => new Date('2026-02-01T00:00:00Z'),
    });
    expect(await chooseSnapshot(layout)).toBe(newer.file);
    expect(await chooseSnapshot(layout, new Date('2026-01-15T00:00:00Z'))).toBe(older.file);
    expect((await caught(chooseSnapshot(layout, new Date('2025-01-01T00:00:00Z')), RestoreError)).code).toBe(
      'NO_SNAPSHOT',
    );
    expect(await sourceSpecOf(undefined, new Date('2026-01-15T00:00:00Z'))).toMatchObject({
      kind: 'snapshot',
    });
    expect(await sourceSpecOf(older.file)).toEqual({ kind: 'snapshot', file: older.file });

    await source.close(); // gone: the snapshot is all there is
    const snapshot = await openRestoreSource({ kind: 'snapshot' }, layout);
    expect(snapshot.location).toBe(newer.file);
    const summary = await restoreFiles({
      pubky: user.z32,
      source: snapshot,
      client,
      session: await session(),
    });
    await snapshot.close();
    expect(summary).toMatchObject({ uploaded: PATHS.length, failed: [] });
    expect(
      (await served(target, '/pub/blobs/big.bin')).equals(
        Buffer.from(FILES['/pub/blobs/big.bin'] as Uint8Array),
      ),
    ).toBe(true);
    expect((await served(target, '/pub/notes')).toString()).toBe(FILES['/pub/notes']);

    const stranger = await signup(target);
    expect((await caught(openSnapshotSource(newer.file, stranger.z32), RestoreError)).code).toBe(
      'SOURCE_MISMATCH',
    );
  });

  it('a folder laid out like data/ (snapshot extract output): names read back exactly', async () => {
    const created = await createSnapshot({
      layout,
      store: BackupStore.openFs(layout.keyDir),
      homeserver: source.url,
      tool: 't',
    });
    const dir = await mkdtemp(join(tmpdir(), 'pubky-backup-restore-folder-'));
    await extractSnapshot(created.file, dir);
    const folder = await openFolderSource(dir);
    expect(folder.files.map((f) => f.path)).toEqual(PATHS);
    const summary = await restoreFiles({ pubky: user.z32, source: folder, client, session: await session() });
    expect(summary).toMatchObject({ uploaded: PATHS.length, failed: [] });
    // A folder vouches for no hash: resuming hashes what the target already has.
    const again = await restoreFiles({
      pubky: user.z32,
      source: await openFolderSource(dir),
      client,
      session: await session(),
    });
    expect(again).toMatchObject({ uploaded: 0, alreadyThere: PATHS.length });
    expect((await caught(openFolderSource(tmpdir()), RestoreError)).code).toBe('BAD_SOURCE');
  });
});
