import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/**
 * A fresh folder under the OS temp dir (named `<prefix>XXXXXX`) before each test, handed to
 * `ready`; removed with everything in it after the test.
 */
export function tempDirFixture(prefix: string, ready: (dir: string) => void): void {
  let current: string | undefined;
  beforeEach(async () => {
    current = await mkdtemp(join(tmpdir(), prefix));
    ready(current);
  });
  afterEach(async () => {
    if (current) await rm(current, { recursive: true, force: true });
    current = undefined;
  });
}
