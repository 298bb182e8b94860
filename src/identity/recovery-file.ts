import { randomBytes } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { argon2id } from 'hash-wasm';
import { RecoveryFileError } from './errors.js';
import { Keypair } from './keypair.js';

/**
 * Pubky recovery file (pubky-common `recovery_file.rs`):
 * `"pubky.org/recovery\n" ‖ nonce(24) ‖ XSalsa20-Poly1305(secret seed, 32 bytes) ‖ tag(16)`,
 * keyed by Argon2id(passphrase, salt "recovery", m=19456 KiB, t=2, p=1).
 */
const SPEC_LINE = 'pubky.org/recovery';
const LEGACY_SPEC_LINE = 'pkarr.org/recovery';
const NONCE_LENGTH = 24;
const SEALED_SECRET_LENGTH = 32 + 16;

export async function createRecoveryFile(keypair: Keypair, passphrase: string): Promise<Uint8Array> {
  // Decrypting accepts an empty passphrase (other tools may have made such files); we never create one.
  if (passphrase.length === 0) {
    throw new RecoveryFileError('EMPTY_PASSPHRASE', 'Choose a non-empty passphrase for the recovery file.');
  }
  const key = await passphraseKey(passphrase);
  const nonce = randomBytes(NONCE_LENGTH);
  const sealed = xsalsa20poly1305(key, nonce).encrypt(keypair.secretKey());
  return Buffer.concat([Buffer.from(`${SPEC_LINE}\n`), nonce, sealed]);
}

export async function decryptRecoveryFile(file: Uint8Array, passphrase: string): Promise<Keypair> {
  const newline = file.indexOf(0x0a);
  const specLine = newline === -1 ? '' : new TextDecoder().decode(file.subarray(0, newline));
  if (!specLine.startsWith(SPEC_LINE) && !specLine.startsWith(LEGACY_SPEC_LINE)) {
    throw new RecoveryFileError(
      'NOT_A_RECOVERY_FILE',
      `Not a Pubky recovery file: it must start with "${SPEC_LINE}" on its first line.`,
    );
  }
  const body = file.subarray(newline + 1);
  if (body.length !== NONCE_LENGTH + SEALED_SECRET_LENGTH) {
    throw new RecoveryFileError(
      'NOT_A_RECOVERY_FILE',
      `Recovery file is damaged: expected ${NONCE_LENGTH + SEALED_SECRET_LENGTH} bytes after the first ` +
        `line, found ${body.length}.`,
    );
  }
  const key = await passphraseKey(passphrase);
  let secret: Uint8Array;
  try {
    secret = xsalsa20poly1305(key, body.subarray(0, NONCE_LENGTH)).decrypt(body.subarray(NONCE_LENGTH));
  } catch {
    // Poly1305 authenticates the secret, so a wrong passphrase can never yield a garbage key.
    throw new RecoveryFileError(
      'WRONG_PASSPHRASE',
      'Wrong passphrase for this recovery file (or the file was altered).',
    );
  }
  return Keypair.fromSecret(secret);
}

async function passphraseKey(passphrase: string): Promise<Uint8Array> {
  return argon2id({
    password: passphrase,
    salt: 'recovery',
    iterations: 2,
    memorySize: 19456,
    parallelism: 1,
    hashLength: 32,
    outputType: 'binary',
  });
}
