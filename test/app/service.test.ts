import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackupService } from '../../src/app/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { put, signup, startHomeserver } from '../helpers/homeserver.js';
import { seed } from '../reliability/harness.js';

let hs: Homeserver;
let dataDir: string;
let service: BackupService;
beforeEach(async () => {
  hs = await startHomeserver();
  dataDir = await mkdtemp(join(tmpdir(), 'pubky-service-'));
  service = await BackupService.open({
    dataDir,
    pkdns: { dht: false, relay: [] },
    command: 'test',
    tool: 'test',
  });
});
afterEach(async () => {
  await service.close();
  await hs.close();
});

const until = async (what: () => boolean | Promise<boolean>, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

describe('BackupService', () => {
  it('keys are added and removed while it runs; events have rising ids', async () => {
    const running = service.run();
    const user = await signup(hs);
    await put(hs, user, '/pub/a.txt', 'A');
    await service.add(user.z32, { homeserver: hs.url });
    const file = join(dataDir, 'keys', user.z32, 'data/pub/a.txt');
    await until(() => existsSync(file) && service.events.since(0).some((e) => e.type === 'SyncFinished'));
    const events = service.events.since(0);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['Started', 'KeyAdded', 'SyncFinished']),
    );
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    await service.remove(user.z32);
    expect((await service.list())[0]).toMatchObject({ active: false });
    await service.close();
    await running;
  });

  it('remove --delete-data while the key is syncing: the folder is gone for good, and it can be added again', async () => {
    const user = await signup(hs);
    await seed(hs, user, 120, 1_000, 5_000);
    hs.faults.add({ route: 'read', fault: { kind: 'latency', ms: 30 } });
    const running = service.run();
    await service.add(user.z32, { homeserver: hs.url });
    const keyDir = join(dataDir, 'keys', user.z32);
    await until(() => existsSync(join(keyDir, 'data')));
    await service.remove(user.z32, { deleteData: true });
    expect(existsSync(keyDir)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 500)); // nothing recreates it
    expect(existsSync(keyDir)).toBe(false);
    await service.add(user.z32, { homeserver: hs.url });
    expect(existsSync(keyDir)).toBe(true);
    await service.close();
    await running;
  });

  it('pause stops a catch-up at once and keeps its work; resume continues', async () => {
    const user = await signup(hs);
    await seed(hs, user, 150, 1_000, 5_000);
    hs.faults.add({ route: 'read', fault: { kind: 'latency', ms: 30 } });
    const running = service.run();
    await service.add(user.z32, { homeserver: hs.url });
    await until(async () => ((await service.status(user.z32)).live?.state ?? '') === 'syncing');
    await service.pause(user.z32);
    const paused = await service.status(user.z32);
    expect(paused.paused).toMatchObject({ reason: 'user' });
    await expect(service.resume(user.z32)).resolves.toMatchObject({ pubky: user.z32 });
    await until(async () => (await service.status(user.z32)).files === 150, 30_000);
    await service.close();
    await running;
  });

  it('a second service on the same data folder is refused with who holds it', async () => {
    await expect(
      BackupService.open({ dataDir, pkdns: {}, command: 'other', tool: 'test' }),
    ).rejects.toMatchObject({
      code: 'ALREADY_RUNNING',
      details: { pid: process.pid, command: 'test' },
    });
  });

  it('the backup moves while the service runs: syncing pauses, other work is refused meanwhile, then resumes from the new place', async () => {
    const user = await signup(hs);
    await seed(hs, user, 60, 1_000, 5_000);
    const running = service.run();
    await service.add(user.z32, { homeserver: hs.url });
    await until(async () => (await service.status(user.z32)).files === 60);
    const target = join(await mkdtemp(join(tmpdir(), 'pubky-moved-')), 'backup');
    const moving = service.moveBackup(target);
    await expect(service.createSnapshots([user.z32])).rejects.toMatchObject({ code: 'BACKUP_BUSY' });
    const moved = await moving;
    expect(moved).toMatchObject({ to: target });
    expect(service.events.since(0).map((e) => e.type)).toContain('BackupMoved');
    await put(hs, user, '/pub/after-move.txt', 'new');
    await until(() => existsSync(join(target, user.z32, 'data/pub/after-move.txt')));
    // The file is on disk a moment before the batch records it in the index (its commit first).
    await until(async () => (await service.status(user.z32)).files === 61);
    const [report] = await service.check([user.z32]);
    expect(report?.problems).toEqual([]);
    await service.close();
    await running;
  });
});
