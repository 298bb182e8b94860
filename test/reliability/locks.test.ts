import { spawn } from 'node:child_process';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyLayout } from '../../src/store/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { signup, startHomeserver, type TestUser } from '../helpers/homeserver.js';
import { backupFolder, FULL, figure, seed, startCli } from './harness.js';

let hs: Homeserver;
let user: TestUser;
beforeAll(async () => {
  hs = await startHomeserver();
  user = await signup(hs);
  await seed(hs, user, 20, 100, 2_000);
});
afterAll(() => hs.close());

const longAgo = new Date(Date.now() - 60_000);
/** A process that lives while the test runs but has nothing to do with pubky-backup. */
const bystander = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)']);
afterAll(() => bystander.kill());

const staleWriteLocks: Array<[string, (dir: string) => Promise<void>]> = [
  [
    'a lock folder with no owner file (crash or full disk between mkdir and write)',
    async (dir) => {
      await mkdir(dir);
      await utimes(dir, longAgo, longAgo);
    },
  ],
  [
    'an empty owner file',
    async (dir) => {
      await mkdir(dir);
      await writeFile(join(dir, 'owner.json'), '');
      await utimes(dir, longAgo, longAgo);
    },
  ],
  [
    'an unrelated live pid (a reused pid)',
    async (dir) => {
      await mkdir(dir);
      const owner = {
        pid: bystander.pid,
        host: hostname(),
        command: 'sync',
        since: longAgo.toISOString(),
        processStart: 1,
        token: 'x',
      };
      await writeFile(join(dir, 'owner.json'), JSON.stringify(owner));
    },
  ],
  [
    'a dead pid',
    async (dir) => {
      await mkdir(dir);
      const owner = {
        pid: 999_999,
        host: hostname(),
        command: 'sync',
        since: longAgo.toISOString(),
        token: 'y',
      };
      await writeFile(join(dir, 'owner.json'), JSON.stringify(owner));
    },
  ],
  [
    'the old format (an `owner` file with a pid that is now someone else)',
    async (dir) => {
      await mkdir(dir);
      await writeFile(join(dir, 'owner'), String(bystander.pid));
      await utimes(dir, longAgo, longAgo);
    },
  ],
];

describe('stale locks never wedge a key', () => {
  let taken = 0;
  it.each(staleWriteLocks)('%s: sync and snapshot go ahead at once', { timeout: 60_000 }, async (_, make) => {
    const dataDir = await backupFolder(hs, user);
    const layout = new KeyLayout(dataDir, user.z32);
    await mkdir(layout.stateDir, { recursive: true });
    await make(join(layout.stateDir, 'write.lock'));
    const started = Date.now();
    const sync = await startCli(dataDir).done;
    expect(sync.code, sync.stderr).toBe(0);
    await make(join(layout.stateDir, 'write.lock')).catch(() => {}); // again, for the snapshot
    const snapshot = await startCli(dataDir, ['snapshot', 'create']).done;
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    taken++;
    if (taken === staleWriteLocks.length)
      figure(`stale locks: ${taken}/${staleWriteLocks.length} kinds taken over at once`);
  });

  it('a stale instance lock (the process died) is taken over; a live one is refused with its pid', {
    timeout: 60_000,
  }, async () => {
    const dataDir = await backupFolder(hs, user);
    const lock = join(dataDir, 'instance.lock');
    await mkdir(lock);
    await writeFile(
      join(lock, 'owner.json'),
      JSON.stringify({ pid: 999_999, host: hostname(), command: 'sync', since: '', token: 'z' }),
    );
    expect((await startCli(dataDir).done).code).toBe(0);

    const running = startCli(dataDir, ['sync']);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const second = await startCli(dataDir).done;
    running.kill('SIGTERM');
    await running.done;
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(
      new RegExp(`already running on this data folder \\(process ${running.pid} \\(sync\\)`),
    );
  });
});

describe('simultaneous starts', () => {
  const rounds = FULL ? 20 : 6;
  it(`two syncs started at the same moment: exactly one runs (${rounds} rounds)`, {
    timeout: 120_000,
  }, async () => {
    // Slow downloads keep the first one running while the second starts.
    const remove = hs.faults.add({ route: 'read', user: user.z32, fault: { kind: 'latency', ms: 300 } });
    let exclusive = 0;
    try {
      for (let round = 0; round < rounds; round++) {
        const dataDir = await backupFolder(hs, user);
        const [a, b] = await Promise.all([startCli(dataDir).done, startCli(dataDir).done]);
        const codes = [a.code, b.code].sort();
        const refused = [a, b].find((run) => run.code === 2);
        if (codes[0] === 0 && codes[1] === 2 && /already running/.test(refused?.stderr ?? '')) exclusive++;
      }
    } finally {
      remove();
    }
    figure(`simultaneous start: ${exclusive}/${rounds} rounds with exactly one sync running`);
    expect(exclusive).toBe(rounds);
  });
});
