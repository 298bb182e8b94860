import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { runCli } from '../helpers/cli.js';
import { put, signup, startHomeserver } from '../helpers/homeserver.js';
import { backupFolder, figure, identicalToHomeserver, seed, startCli } from './harness.js';

let hs: Homeserver | undefined;
afterEach(async () => {
  await hs?.close();
  hs = undefined;
});

describe('feed faults within one run', () => {
  it.each([
    ['a 502', { kind: 'status', status: 502 } as const],
    ['a reset connection', { kind: 'reset' } as const],
    ['a stalled answer (longer than requestTimeoutSeconds)', { kind: 'latency', ms: 2_500 } as const],
  ])('%s on the events feed is retried; sync --once completes', { timeout: 60_000 }, async (_, fault) => {
    hs = await startHomeserver();
    const user = await signup(hs);
    await seed(hs, user, 10, 100, 1_000);
    const dataDir = await backupFolder(hs, user);
    await writeFile(join(dataDir, 'config.json'), JSON.stringify({ requestTimeoutSeconds: 1 }));
    hs.faults.add({ route: 'events-stream', times: 1, fault });
    const run = await startCli(dataDir).done;
    expect(run.code, run.stderr).toBe(0);
    expect(await identicalToHomeserver(dataDir, hs, user)).toEqual([]);
  });

  it('a dead homeserver ends the run within seconds with exit 2; status says since when', {
    timeout: 60_000,
  }, async () => {
    hs = await startHomeserver();
    const user = await signup(hs);
    const paths = await seed(hs, user, 200, 100, 1_000);
    const dataDir = await backupFolder(hs, user);
    // Down in the middle of the downloads: the feed answered, then nobody does.
    const server = hs;
    server.faults.add({ route: 'read', fault: { kind: 'latency', ms: 50 } });
    const run = startCli(dataDir);
    const started = Date.now();
    const outage = setTimeout(() => void server.stop(), 900);
    const exit = await run.done;
    clearTimeout(outage);
    const seconds = (Date.now() - started) / 1000;
    expect(exit.code).toBe(2);
    expect(exit.stdout + exit.stderr).toMatch(/cannot be reached/);
    expect(seconds).toBeLessThan(15);
    const status = await runCli(['--data-dir', dataDir, 'status']);
    expect(status.stdout).toMatch(/error .*cannot be reached.*\(since \d{4}-/);
    figure(
      `dead homeserver: sync --once ended after ${seconds.toFixed(1)} s with exit 2 ("cannot be reached"), ${paths.length} files pending`,
    );
    await server.resume();
    await put(server, user, '/pub/after.txt', 'back');
    const again = await startCli(dataDir).done;
    expect(again.code, again.stderr).toBe(0);
    expect(await identicalToHomeserver(dataDir, server, user)).toEqual([]);
  });
});
