import { readFile } from 'node:fs/promises';
import * as z32 from 'z32';
import { decryptRecoveryFile, Keypair } from '../identity/index.js';
import { RestoreError } from './errors.js';

/** Where the user's secret key comes from (exactly one of the two files). */
export interface KeyMaterialOptions {
  /** A Pubky recovery file (`pubky.org/recovery`, encrypted with a passphrase): its path or its bytes. */
  recoveryFile?: string | Uint8Array;
  /** A file holding the 32-byte secret key (its path or its bytes): see `parseSecretKey` for the forms. */
  secretKeyFile?: string | Uint8Array;
  /** Asked only for a recovery file; never stored or logged by this module. */
  passphrase?: () => Promise<string>;
}

/**
 * The user's keypair from a recovery file or a secret key file, checked against `pubky` (the
 * z32 key being restored): a key of somebody else is refused before anything is sent. A wrong
 * passphrase throws the identity module's `RecoveryFileError` (`WRONG_PASSPHRASE`), never a
 * wrong key (Poly1305 authenticates the secret; protocol.md §4). Errors: `RestoreError`
 * `KEY_REQUIRED`, `BAD_SECRET_KEY_FILE`, `NO_PASSPHRASE`, `KEY_MISMATCH`.
 */
export async function loadUserKeypair(pubky: string, options: KeyMaterialOptions): Promise<Keypair> {
  if (options.recoveryFile && options.secretKeyFile) {
    throw new RestoreError('KEY_REQUIRED', 'Give either a recovery file or a secret key file, not both.');
  }
  let keypair: Keypair;
  if (options.recoveryFile) {
    const bytes = await readKeyFile(options.recoveryFile, 'recovery file');
    if (!options.passphrase) {
      throw new RestoreError('NO_PASSPHRASE', 'A recovery file needs its passphrase.');
    }
    keypair = await decryptRecoveryFile(bytes, await options.passphrase());
  } else if (options.secretKeyFile) {
    keypair = Keypair.fromSecret(
      parseSecretKey(await readKeyFile(options.secretKeyFile, 'secret key file'), pubky),
    );
  } else {
    throw new RestoreError(
      'KEY_REQUIRED',
      "Writing to a homeserver needs the user's key: give the user's recovery file (and its passphrase) " +
        'or a file with the secret key.',
    );
  }
  if (keypair.publicKey.z32 !== pubky) {
    throw new RestoreError(
      'KEY_MISMATCH',
      `The key given belongs to ${keypair.publicKey.z32}, not to ${pubky}: use the recovery file ` +
        'or secret key of the pubky being restored. Nothing was sent.',
    );
  }
  return keypair;
}

/**
 * The 32-byte secret key in a secret key file: the raw 32 bytes, or as text (surrounding
 * whitespace ignored) 64 hexadecimal characters, 52 z-base-32 characters, or base64 (43
 * characters, padded or not). A file holding the public key `pubky` itself, or a recovery file,
 * is refused with a message saying so.
 */
export function parseSecretKey(bytes: Uint8Array, pubky?: string): Uint8Array {
  if (bytes.length === 32) return Uint8Array.from(bytes);
  const text = Buffer.from(bytes).toString('utf8').trim();
  if (text.startsWith('pubky.org/recovery') || text.startsWith('pkarr.org/recovery')) {
    throw new RestoreError(
      'BAD_SECRET_KEY_FILE',
      'This is a recovery file (encrypted, with a passphrase), not a secret key file: give it as the recovery file.',
    );
  }
  if (pubky !== undefined && (text === pubky || text === `pubky${pubky}` || text === `pk:${pubky}`)) {
    throw new RestoreError(
      'BAD_SECRET_KEY_FILE',
      'The secret key file holds the public key (the pubky itself), not the secret key.',
    );
  }
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'));
  if (/^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}$/.test(text)) {
    const decoded = z32.decode(text).subarray(0, 32);
    if (z32.encode(decoded) === text) return Uint8Array.from(decoded);
  }
  if (/^[A-Za-z0-9+/]{43}=?$/.test(text)) {
    const decoded = Buffer.from(text, 'base64');
    if (decoded.length === 32) return Uint8Array.from(decoded);
  }
  throw new RestoreError(
    'BAD_SECRET_KEY_FILE',
    `The secret key file holds ${bytes.length} bytes that are not a secret key: it must hold the ` +
      '32 raw bytes, or 64 hexadecimal, 52 z-base-32 or 43 base64 characters.',
  );
}

async function readKeyFile(file: string | Uint8Array, what: string): Promise<Uint8Array> {
  if (typeof file !== 'string') return file;
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new RestoreError('KEY_REQUIRED', `Cannot read the ${what} ${file}: ${reason}.`);
  }
}
