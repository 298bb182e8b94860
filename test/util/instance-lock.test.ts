import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireInstanceLock } from '../../src/util/instance-lock.js';

describe('the instance lock', () => {
  it('a fresh lock folder without an owner (a process killed between mkdir and the owner write) is waited out and taken, not "another process"', {
    timeout: 20_000,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-instance-lock-'));
    await mkdir(join(dataDir, 'instance.lock'));
    const started = Date.now();
    const lock = await acquireInstanceLock(dataDir, 'sync --once');
    // Not before the 5 s after which dir-lock deems an ownerless lock stale.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
    await lock.release();
  });

  it('a held lock is refused at once with its holder named', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-instance-lock-'));
    const held = await acquireInstanceLock(dataDir, 'daemon');
    await expect(acquireInstanceLock(dataDir, 'sync --once')).rejects.toMatchObject({
      code: 'ALREADY_RUNNING',
      message: expect.stringContaining(`process ${process.pid} (daemon)`),
    });
    await held.release();
  });
});
