import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyLayout, readCursor } from '../../src/store/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { runCli } from '../helpers/cli.js';
import { signup, startHomeserver } from '../helpers/homeserver.js';
import {
  backupFolder,
  figure,
  identicalToHomeserver,
  invariantViolations,
  seed,
  startCli,
} from './harness.js';

/** A small tmpfs (needs root: CI runs as root); elsewhere the drill is skipped with the reason. */
const mountPoint = await mkdtemp(join(tmpdir(), 'pubky-diskfull-'));
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return { ok: true as const };
  } catch (error) {
    const reason = `cannot mount a tmpfs here (${(error as Error).message.split('\n')[0]}): disk-full drill skipped`;
    process.stdout.write(`RELIABILITY ${reason}\n`);
    return { ok: false as const, reason };
  }
})();
afterAll(() => {
  if (mounted.ok) execFileSync('umount', ['-l', mountPoint]);
});

let hs: Homeserver | undefined;
afterAll(() => hs?.close());

describe('disk full', () => {
  it.skipIf(!mounted.ok)(
    'a clear error, nothing corrupt, the cursor not past the data; converges once space is freed',
    {
      timeout: 120_000,
    },
    async () => {
      hs = await startHomeserver();
      const user = await signup(hs);
      await seed(hs, user, 40, 200_000, 400_000); // ~12 MB into a 6 MB disk
      const dataDir = await backupFolder(hs, user);
      const { cp } = await import('node:fs/promises');
      const onTmpfs = join(mountPoint, 'data');
      await cp(dataDir, onTmpfs, { recursive: true });

      const full = await startCli(onTmpfs).done;
      expect(full.code).toBe(2);
      expect(full.stdout + full.stderr).toMatch(/disk of the backup is full/);
      expect(full.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(await invariantViolations(onTmpfs, hs, user)).toEqual([]);
      const cursor = await readCursor(new KeyLayout(onTmpfs, user.z32).cursorFile);
      const tmp = await readdir(join(new KeyLayout(onTmpfs, user.z32).keyDir, 'tmp')).catch(() => []);

      execFileSync('mount', ['-o', 'remount,size=64m', mountPoint]);
      const after = await startCli(onTmpfs).done;
      expect(after.code, after.stderr).toBe(0);
      expect(await identicalToHomeserver(onTmpfs, hs, user)).toEqual([]);
      const status = await runCli(['--data-dir', onTmpfs, 'check']);
      expect(status.code).toBe(0);
      figure(
        `disk full (6 MB tmpfs, 12 MB to back up): exit 2 "disk of the backup is full", cursor left at ${cursor}, ${tmp.length} temp files left; ` +
          'after more space: exit 0, byte-identical, check clean',
      );
    },
  );
});
