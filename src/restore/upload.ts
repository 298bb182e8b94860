import { type HomeserverClient, HomeserverError, type Session } from '../homeserver/index.js';
import { isUnreachable } from '../sync/retry-policy.js';
import { newBlake3 } from '../util/blake3.js';
import { sleep } from '../util/sleep.js';
import type { SourceFile } from './source.js';

/** The source's bytes are not the ones it vouches for (size or BLAKE3): the upload was cut off. */
export class SourceDamagedError extends Error {
  override readonly name = 'SourceDamagedError';
}

/** Attempts of one upload (the first included) on a 5xx, a 429 or a dropped connection. */
const UPLOAD_ATTEMPTS = 3;
/** Files up to this size are read whole and checked before a byte is sent (one read, one write). */
export const WHOLE_FILE_BYTES = 1024 * 1024;

/**
 * The body to send for `file`: small files read at once and already verified (size and BLAKE3:
 * damaged bytes are never sent at all), larger ones streamed through `verifiedBytes`.
 */
async function bodyOf(
  file: SourceFile,
  result: { blake3?: string },
  onBytes: (n: number) => void,
): Promise<Uint8Array | AsyncIterable<Uint8Array>> {
  if (!file.readWhole || file.size > WHOLE_FILE_BYTES) return verifiedBytes(file, result, onBytes);
  const bytes = await file.readWhole();
  const hasher = await newBlake3();
  hasher.update(bytes);
  const blake3 = hasher.digest();
  checkBytes(file, bytes.length, blake3);
  result.blake3 = blake3;
  onBytes(bytes.length);
  return bytes;
}

/** Throws `SourceDamagedError` when the bytes read are not the ones the source vouches for. */
function checkBytes(file: SourceFile, size: number, blake3: string): void {
  if (size !== file.size) {
    throw new SourceDamagedError(
      `${size} bytes read, ${file.size} expected: the source changed or is damaged`,
    );
  }
  if (file.blake3 !== undefined && blake3 !== file.blake3) {
    throw new SourceDamagedError(
      `its bytes (BLAKE3 ${blake3}) are not the backed-up ones (${file.blake3}): damaged in the source`,
    );
  }
}

/**
 * The file's bytes, streamed, with their size and BLAKE3 checked against `file` before the last
 * chunk is handed on: bytes that are not the backed-up ones throw `SourceDamagedError` while the
 * request body is still incomplete, so the homeserver never stores them. `result.blake3` is set
 * once the whole file went through (a folder source vouches for no hash: this is where it is
 * learned). Memory: one chunk held back.
 */
export async function* verifiedBytes(
  file: SourceFile,
  result: { blake3?: string } = {},
  onBytes?: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  const hasher = await newBlake3();
  let size = 0;
  let held: Uint8Array | undefined;
  for await (const chunk of file.read()) {
    if (chunk.length === 0) continue;
    if (held) {
      onBytes?.(held.length);
      yield held;
    }
    hasher.update(chunk);
    size += chunk.length;
    held = chunk; // every source reads into fresh buffers (fs streams, yauzl, the store's reader)
  }
  const blake3 = hasher.digest();
  checkBytes(file, size, blake3);
  result.blake3 = blake3;
  if (held) {
    onBytes?.(held.length);
    yield held;
  }
}

/**
 * Uploads one file (`PUT`, streamed, Content-Length = its size) as the session's user. A 5xx,
 * 429 or dropped connection is retried twice — after a HEAD shows the file is not already there
 * with these bytes, so a PUT whose answer was lost is never sent again. Returns the bytes'
 * BLAKE3. Throws `SourceDamagedError`, or the last `HomeserverError`.
 */
export async function uploadFile(
  client: HomeserverClient,
  session: Session,
  file: SourceFile,
  options: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const result: { blake3?: string } = {};
    let sent = 0;
    try {
      const body = await bodyOf(file, result, (n) => {
        sent += n;
        options.onBytes?.(n);
      });
      await client.put(session, file.path, body, { contentLength: file.size, signal: options.signal });
      return result.blake3 ?? (file.blake3 as string);
    } catch (error) {
      options.onBytes?.(-sent);
      const cause = damageIn(error);
      if (cause) throw cause;
      if (attempt >= UPLOAD_ATTEMPTS || !isTransient(error) || options.signal?.aborted) throw error;
      await sleep(250 * 2 ** (attempt - 1), options.signal);
      const expected = result.blake3 ?? file.blake3;
      if (
        expected !== undefined &&
        (await landed(client, session.user, file.path, expected, options.signal))
      ) {
        options.onBytes?.(file.size);
        return expected;
      }
    }
  }
}

/** Whether the homeserver holds `path` with these bytes (its ETag is their BLAKE3). */
export async function landed(
  client: HomeserverClient,
  user: string,
  path: string,
  blake3: string,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    return (await client.head(user, path, signal)).contentHash === blake3;
  } catch (error) {
    if (error instanceof HomeserverError && error.kind === 'not-found') return false;
    throw error;
  }
}

/** A 5xx, a 429, or a connection that dropped (not one that was refused: nobody is there). */
function isTransient(error: unknown): boolean {
  if (!(error instanceof HomeserverError)) return false;
  if (isUnreachable(error)) return false;
  return error.kind === 'server' || error.kind === 'rate-limited' || error.kind === 'network';
}

/** The body's own failure, however fetch wrapped it. */
function damageIn(error: unknown): SourceDamagedError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (current instanceof SourceDamagedError) return current;
    current = current.cause;
  }
  return undefined;
}
