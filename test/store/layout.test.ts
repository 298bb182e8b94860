import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import { KeyLayout, listKeys } from '../../src/store/index.js';
import { tempDirFixture } from '../helpers/temp-dir.js';

const A = Keypair.fromSecret(new Uint8Array(32).fill(1)).publicKey.z32;
const B = Keypair.fromSecret(new Uint8Array(32).fill(2)).publicKey.z32;

let dataDir: string;
tempDirFixture('pubky-layout-', (created) => {
  dataDir = created;
});

describe('KeyLayout', () => {
  it('places every file of a key under keys/<z32>/', () => {
    const layout = new KeyLayout('/d', A);
    const state = join('/d', 'keys', A, 'state');
    expect(layout.keyDir).toBe(join('/d', 'keys', A));
    expect(layout.stateDir).toBe(state);
    expect(layout.cursorFile).toBe(join(state, 'cursor'));
    expect(layout.indexFile).toBe(join(state, 'index.jsonl'));
    expect(layout.activityLog).toBe(join(state, 'activity.log'));
    expect(layout.retryFile).toBe(join(state, 'retry.json'));
    expect(layout.homeserverFile).toBe(join(state, 'homeserver.json'));
    expect(layout.keyConfigFile).toBe(join(state, 'key.json'));
    expect(layout.pausedFile).toBe(join(state, 'paused.json'));
    expect(layout.inactiveMarker).toBe(join(state, 'inactive'));
  });
});

describe('listKeys', () => {
  it('is empty without a keys folder', async () => {
    expect(await listKeys(dataDir)).toEqual([]);
  });

  it('lists pubky folders only, sorted', async () => {
    for (const name of [B, A, 'not-a-key', `pubky${A}`, A.toUpperCase()]) {
      await mkdir(join(dataDir, 'keys', name), { recursive: true });
    }
    await writeFile(join(dataDir, 'keys', 'x'), '');
    expect(await listKeys(dataDir)).toEqual([A, B].sort());
  });
});
