import { afterEach, describe, expect, it } from 'vitest';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { signup, startHomeserver } from '../helpers/homeserver.js';
import {
  backupFolder,
  churn,
  duplicateVersions,
  FULL,
  figure,
  identicalToHomeserver,
  invariantViolations,
  seed,
  startCli,
  syncKilledAfter,
} from './harness.js';

let hs: Homeserver | undefined;
afterEach(async () => {
  await hs?.close();
  hs = undefined;
});

describe('kill -9 while the homeserver keeps changing', () => {
  const kills = FULL ? 50 : 10;
  it(`${kills} kills at random moments: invariants after each, byte-identical at the end, no duplicate versions`, {
    timeout: FULL ? 900_000 : 120_000,
  }, async () => {
    hs = await startHomeserver();
    const user = await signup(hs);
    const paths = await seed(hs, user, FULL ? 600 : 150, 1_000, 30_000);
    const dataDir = await backupFolder(hs, user);
    const changes = churn(hs, user, paths);
    let killed = 0;
    let clean = 0;
    const violations: string[] = [];
    for (let round = 0; round < kills; round++) {
      const run = await syncKilledAfter(dataDir, 150 + Math.floor(Math.random() * 750));
      if (run.killed) killed++;
      const broken = await invariantViolations(dataDir, hs, user);
      if (broken.length === 0) clean++;
      violations.push(...broken.map((b) => `round ${round}: ${b}`));
    }
    const churned = await changes.stop();
    const last = await startCli(dataDir).done;
    expect(last.code, last.stderr).toBe(0);
    const differences = await identicalToHomeserver(dataDir, hs, user);
    const duplicates = await duplicateVersions(dataDir, user);
    figure(
      `kill-9 loop: ${clean}/${kills} checks clean after ${killed} kills (${churned} homeserver changes meanwhile); ` +
        `final sync byte-identical: ${differences.length === 0 ? 'yes' : `no (${differences.length})`}; duplicate versions: ${duplicates.length}`,
    );
    expect(violations).toEqual([]);
    expect(differences).toEqual([]);
    expect(duplicates).toEqual([]);
  });
});
