import { type HomeserverClient, HomeserverError } from '../homeserver/index.js';
import type { BackupStore, IndexEntry } from '../store/index.js';
import { newBlake3 } from '../util/blake3.js';
import { IMMEDIATE_ATTEMPTS, MAX_INLINE_RETRY_AFTER_MS, sleep } from './retry-policy.js';

export interface DownloadRequest {
  user: string;
  /** Homeserver path, e.g. `/pub/app/file`. */
  path: string;
  storePath: string;
  /** content_hash from the event, when the feed gave one. */
  contentHash?: string;
  /** What the backup already holds for this path. */
  known?: IndexEntry;
}

export type DownloadResult =
  | { kind: 'stored'; size: number; blake3: string; etag?: string }
  | { kind: 'unchanged'; blake3: string; etag?: string };

/** The homeserver served bytes that do not match the hash it announced (ETag or content_hash). */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

/**
 * Downloads one file into the store: streams the body to a staged temp file while hashing it with
 * BLAKE3, and commits only when the hash matches the ETag (or the event's content_hash). Transient
 * failures are retried a few times here; what still fails is thrown for the retry queue.
 */
export async function downloadFile(
  client: HomeserverClient,
  store: BackupStore,
  request: DownloadRequest,
  signal?: AbortSignal,
): Promise<DownloadResult> {
  // Replaying an event for content we already hold costs no download.
  if (
    request.known &&
    request.contentHash === request.known.blake3 &&
    (await store.stat(request.storePath))
  ) {
    return { kind: 'unchanged', blake3: request.known.blake3, etag: request.known.etag };
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadOnce(client, store, request, signal);
    } catch (error) {
      const wait = retryDelay(error, attempt);
      if (wait === undefined || signal?.aborted) throw error;
      await sleep(wait, signal);
    }
  }
}

/** How long to wait before trying again in place, or undefined to give up now. */
function retryDelay(error: unknown, attempt: number): number | undefined {
  if (attempt >= IMMEDIATE_ATTEMPTS) return undefined;
  if (error instanceof IntegrityError) return 200 * attempt;
  if (!(error instanceof HomeserverError)) return undefined;
  if (error.kind === 'rate-limited') {
    const after = error.retryAfterMs ?? 1000;
    return after <= MAX_INLINE_RETRY_AFTER_MS ? after : undefined;
  }
  return error.kind === 'network' || error.kind === 'server' ? 250 * attempt : undefined;
}

async function downloadOnce(
  client: HomeserverClient,
  store: BackupStore,
  request: DownloadRequest,
  signal?: AbortSignal,
): Promise<DownloadResult> {
  // Only a file we really hold may be revalidated; otherwise fetch it whole.
  const known = request.known && (await store.stat(request.storePath)) ? request.known : undefined;
  const response = await client.get(request.user, request.path, {
    signal,
    // A conditional GET: an unchanged file answers 304 with no body.
    ifNoneMatch: known ? (known.etag ?? known.blake3) : undefined,
  });
  if (response.status === 304 && known) {
    return { kind: 'unchanged', blake3: known.blake3, etag: response.etag ?? known.etag };
  }
  const expected = response.etag ?? request.contentHash;
  const hasher = await newBlake3();
  const staged = await store.stage(request.storePath);
  let size = 0;
  try {
    for await (const chunk of response.body) {
      hasher.update(chunk);
      size += chunk.length;
      await staged.write(chunk);
    }
    const blake3 = hasher.digest();
    if (expected !== undefined && blake3 !== expected) {
      throw new IntegrityError(
        `${request.path}: the homeserver sent bytes whose BLAKE3 (${blake3}) differs from the hash it announced ` +
          `(${expected}); not stored.`,
      );
    }
    if (known && known.blake3 === blake3) {
      await staged.abort();
      return { kind: 'unchanged', blake3, etag: response.etag };
    }
    await staged.commit();
    return { kind: 'stored', size, blake3, etag: response.etag };
  } catch (error) {
    await staged.abort();
    throw error;
  }
}
