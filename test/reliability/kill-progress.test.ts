import { afterEach, describe, expect, it } from 'vitest';
import { KeyLayout, readCursor } from '../../src/store/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { signup, startHomeserver } from '../helpers/homeserver.js';
import {
  backupFolder,
  duplicateVersions,
  FULL,
  figure,
  identicalToHomeserver,
  seed,
  syncKilledAfter,
} from './harness.js';

let hs: Homeserver | undefined;
afterEach(async () => {
  await hs?.close();
  hs = undefined;
});

describe('progress under kills every 2.5 s', () => {
  const files = FULL ? 2000 : 300;
  it(`the first backup of ${files} files completes although every run is killed after 2.5 s`, {
    timeout: FULL ? 900_000 : 120_000,
  }, async () => {
    hs = await startHomeserver();
    const user = await signup(hs);
    // Full: ~286 MB like the drill; reduced: small files made slow by latency.
    await seed(hs, user, files, FULL ? 1_000 : 1_000, FULL ? 285_000 : 20_000);
    if (!FULL) hs.faults.add({ route: 'read', fault: { kind: 'latency', ms: 100 } });
    const dataDir = await backupFolder(hs, user);
    const limit = FULL ? 60 : 20;
    let runs = 0;
    let killed = 0;
    const cursors: string[] = [];
    for (; runs < limit; ) {
      runs++;
      const run = await syncKilledAfter(dataDir, 2_500);
      cursors.push(await readCursor(new KeyLayout(dataDir, user.z32).cursorFile));
      if (!run.killed) {
        expect(run.code, run.stderr).toBe(0);
        break;
      }
      killed++;
    }
    const duplicates = await duplicateVersions(dataDir, user);
    figure(
      `kill every 2.5 s: first backup of ${files} files completed in ${runs} runs (${killed} killed); duplicate versions: ${duplicates.length}`,
    );
    expect(killed).toBeGreaterThan(0); // the drill really interrupted it
    expect(runs).toBeLessThan(limit);
    expect(await identicalToHomeserver(dataDir, hs, user)).toEqual([]);
    expect(duplicates).toEqual([]);
  });
});
