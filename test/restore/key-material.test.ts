import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair as SdkKeypair } from '@synonymdev/pubky';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z32 from 'z32';
import { createRecoveryFile, Keypair, RecoveryFileError } from '../../src/identity/index.js';
import { loadUserKeypair, parseSecretKey, RestoreError } from '../../src/restore/index.js';
import { caught } from '../helpers/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubky-backup-keys-'));
});
const file = async (name: string, bytes: string | Uint8Array) => {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
};

describe("the user's key for restore and migrate", () => {
  it('from a recovery file made by the official SDK, with its passphrase', async () => {
    const sdk = SdkKeypair.random();
    const recoveryFile = await file('sdk.recovery', sdk.createRecoveryFile('open sesame'));
    const keypair = await loadUserKeypair(sdk.publicKey.z32(), {
      recoveryFile,
      passphrase: async () => 'open sesame',
    });
    expect(keypair.publicKey.z32).toBe(sdk.publicKey.z32());
  });

  it('a wrong passphrase is reported as such; a key of somebody else is refused', async () => {
    const mine = Keypair.random();
    const recoveryFile = await file('mine.recovery', await createRecoveryFile(mine, 'right'));
    const wrong = await caught(
      loadUserKeypair(mine.publicKey.z32, { recoveryFile, passphrase: async () => 'wrong' }),
      RecoveryFileError,
    );
    expect(wrong.code).toBe('WRONG_PASSPHRASE');
    const other = Keypair.random().publicKey.z32;
    const mismatch = await caught(
      loadUserKeypair(other, { recoveryFile, passphrase: async () => 'right' }),
      RestoreError,
    );
    expect(mismatch.code).toBe('KEY_MISMATCH');
    expect(mismatch.message).toContain(mine.publicKey.z32);
    expect(mismatch.message).toContain(other);
  });

  it('a secret key file: raw bytes, hex, z-base-32 or base64; never the pubky or a recovery file', async () => {
    const keypair = Keypair.random();
    const secret = keypair.secretKey();
    const pubky = keypair.publicKey.z32;
    for (const [name, content] of [
      ['raw', secret],
      ['hex', `${Buffer.from(secret).toString('hex')}\n`],
      ['z32', `  ${z32.encode(secret)}\n`],
      ['base64', Buffer.from(secret).toString('base64')],
    ] as const) {
      const secretKeyFile = await file(`secret.${name}`, content);
      expect((await loadUserKeypair(pubky, { secretKeyFile })).publicKey.z32, name).toBe(pubky);
    }
    expect(() => parseSecretKey(Buffer.from(`pubky${pubky}`), pubky)).toThrow(/public key/);
    expect(() => parseSecretKey(Buffer.from('pubky.org/recovery\nxxxx'))).toThrow(/is a recovery file/);
    const junk = await caught(async () => parseSecretKey(Buffer.from('not a key')), RestoreError);
    expect(junk.code).toBe('BAD_SECRET_KEY_FILE');
  });

  it('no key at all, or both: a plain message saying what to pass', async () => {
    const pubky = Keypair.random().publicKey.z32;
    expect((await caught(loadUserKeypair(pubky, {}), RestoreError)).message).toContain('recovery file');
    const both = await caught(
      loadUserKeypair(pubky, { recoveryFile: 'a', secretKeyFile: 'b' }),
      RestoreError,
    );
    expect(both.code).toBe('KEY_REQUIRED');
    const missing = await caught(loadUserKeypair(pubky, { secretKeyFile: join(dir, 'nope') }), RestoreError);
    expect(missing.message).toContain('no such file');
  });
});
