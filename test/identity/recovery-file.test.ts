import { Keypair as SdkKeypair } from '@synonymdev/pubky';
import { describe, expect, it } from 'vitest';
import {
  createRecoveryFile,
  decryptRecoveryFile,
  Keypair,
  RecoveryFileError,
  verifySignature,
} from '../../src/identity/index.js';
import { caught } from '../helpers/errors.js';

describe('recovery files', () => {
  it('we decrypt a recovery file made by the official SDK', async () => {
    const sdkKeypair = SdkKeypair.random();
    const file = sdkKeypair.createRecoveryFile('correct horse battery staple');
    const ours = await decryptRecoveryFile(file, 'correct horse battery staple');
    expect(ours.publicKey.z32).toBe(sdkKeypair.publicKey.z32());
    expect(Buffer.from(ours.secretKey())).toEqual(Buffer.from(sdkKeypair.secret()));
  });

  it('the official SDK decrypts a recovery file made by us', async () => {
    const keypair = Keypair.random();
    const file = await createRecoveryFile(keypair, 'pässwörd with ünïcode');
    expect(new TextDecoder().decode(file.subarray(0, 19))).toBe('pubky.org/recovery\n');
    expect(file).toHaveLength(91);
    const theirs = SdkKeypair.fromRecoveryFile(file, 'pässwörd with ünïcode');
    expect(theirs.publicKey.z32()).toBe(keypair.publicKey.z32);
  });

  it('a wrong passphrase is a clear error, never a garbage key', async () => {
    const file = SdkKeypair.random().createRecoveryFile('right');
    const error = await caught(decryptRecoveryFile(file, 'wrong'), RecoveryFileError);
    expect(error.code).toBe('WRONG_PASSPHRASE');
    expect(error.message).toMatch(/wrong passphrase/i);
  });

  it('a flipped byte in the sealed secret is detected', async () => {
    const file = await createRecoveryFile(Keypair.random(), 'pw');
    file[file.length - 20] = (file[file.length - 20] ?? 0) ^ 1;
    expect((await caught(decryptRecoveryFile(file, 'pw'), RecoveryFileError)).code).toBe('WRONG_PASSPHRASE');
  });

  it('accepts the legacy pkarr.org/recovery header', async () => {
    const keypair = Keypair.random();
    const file = await createRecoveryFile(keypair, 'pw');
    const legacy = Buffer.concat([Buffer.from('pkarr.org/recovery'), file.subarray(18)]);
    expect((await decryptRecoveryFile(legacy, 'pw')).publicKey.z32).toBe(keypair.publicKey.z32);
  });

  it('rejects files that are not recovery files, saying why', async () => {
    const notOne = await caught(
      decryptRecoveryFile(Buffer.from('hello world\nxxxx'), 'pw'),
      RecoveryFileError,
    );
    expect(notOne.code).toBe('NOT_A_RECOVERY_FILE');
    const truncated = (await createRecoveryFile(Keypair.random(), 'pw')).subarray(0, 80);
    const damaged = await caught(decryptRecoveryFile(truncated, 'pw'), RecoveryFileError);
    expect(damaged.code).toBe('NOT_A_RECOVERY_FILE');
    expect(damaged.message).toContain('damaged');
  });

  it('refuses to create a file with an empty passphrase', async () => {
    expect((await caught(createRecoveryFile(Keypair.random(), ''), RecoveryFileError)).code).toBe(
      'EMPTY_PASSPHRASE',
    );
  });
});

describe('keypairs', () => {
  it('sign and verify, and the SDK derives the same public key from the secret', () => {
    const keypair = Keypair.random();
    const message = new TextEncoder().encode('hello pubky');
    const signature = keypair.sign(message);
    expect(verifySignature(keypair.publicKey, message, signature)).toBe(true);
    expect(verifySignature(keypair.publicKey, new TextEncoder().encode('hello pubkz'), signature)).toBe(
      false,
    );
    expect(verifySignature(keypair.publicKey, message, signature.subarray(1))).toBe(false);
    expect(SdkKeypair.fromSecret(keypair.secretKey()).publicKey.z32()).toBe(keypair.publicKey.z32);
  });

  it('rejects secrets of the wrong size', () => {
    expect(() => Keypair.fromSecret(new Uint8Array(31))).toThrow(/32 bytes/);
  });
});
