import { type HomeserverClient, HomeserverError } from '../homeserver/index.js';
import { type BackupStore, hashStream, type IndexEntry } from '../store/index.js';
import { newBlake3 } from '../util/blake3.js';
import { IMMEDIATE_ATTEMPTS, MAX_INLINE_RETRY_AFTER_MS, sleep } from './retry-policy.js';

export interface DownloadRequest {
  user: string;
  /** Homeserver path, e.g. `/pub/app/file`. */
  path: string;
  storePath: string;
  /** content_hash from the event, when the feed gave one. */
  contentHash?: string;
  /** The index entry for this path, if any (whether the file is really there is checked here). */
  known?: IndexEntry;
}

export type DownloadResult =
  | { kind: 'stored'; size: number; blake3: string; etag?: string }
  | { kind: 'unchanged'; size: number; blake3: string; etag?: string };

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
  const held = await heldCopy(store, request);
  // Replaying an event for content we already hold costs no download.
  if (held && request.contentHash === held.blake3) {
    return { kind: 'unchanged', size: held.size, blake3: held.blake3, etag: held.etag };
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadOnce(client, store, { ...request, known: held }, signal);
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

/**
 * What the backup holds for the path: the index entry when the file is there; for a file on disk
 * the index does not know (a crash between the file and the index, the original app's folder), its
 * own BLAKE3 — so a replay or a retry recognises bytes it already has instead of downloading them
 * again and keeping an identical "previous version". Undefined when there is no file.
 */
async function heldCopy(store: BackupStore, request: DownloadRequest): Promise<IndexEntry | undefined> {
  const local = await store.locate(request.storePath);
  if (!local) return undefined;
  if (request.known) return request.known;
  const { blake3, size } = await hashStream(store.read(local.path));
  return { path: request.path, size, blake3, cursor: '0' };
}

async function downloadOnce(
  client: HomeserverClient,
  store: BackupStore,
  request: DownloadRequest,
  signal?: AbortSignal,
): Promise<DownloadResult> {
  // Only a file we really hold may be revalidated (heldCopy); otherwise fetch it whole.
  const known = request.known;
  const get = (keepEscapes: boolean) =>
    client.get(request.user, request.path, {
      signal,
      // A conditional GET: an unchanged file answers 304 with no body.
      ifNoneMatch: known ? (known.etag ?? known.blake3) : undefined,
      keepEscapes,
    });
  const response = await get(false).catch((error: unknown) => {
    // pubky-homeserver 0.1 announced paths still percent-encoded and finds them only that way.
    const encoded = /%[0-9A-Fa-f]{2}/.test(request.path);
    if (encoded && error instanceof HomeserverError && error.kind === 'not-found') return get(true);
    throw error;
  });
  if (response.status === 304 && known) {
    return { kind: 'unchanged', size: known.size, blake3: known.blake3, etag: response.etag ?? known.etag };
  }
  // Both are canonical base64 (hex from older homeservers is converted): compare like for like.
  const expected = response.contentHash ?? request.contentHash;
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
      return { kind: 'unchanged', size, blake3, etag: response.etag };
    }
    await staged.commit();
    return { kind: 'stored', size, blake3, etag: response.etag };
  } catch (error) {
    await staged.abort();
    throw error;
  }
}
