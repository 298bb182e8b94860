import { type HomeserverClient, HomeserverError } from '../homeserver/index.js';
import { type BackupStore, hashStream, type IndexEntry } from '../store/index.js';
import { newBlake3 } from '../util/blake3.js';
import { IMMEDIATE_ATTEMPTS, isUnreachable, MAX_INLINE_RETRY_AFTER_MS, sleep } from './retry-policy.js';

export interface DownloadRequest {
  user: string;
  /** Homeserver path, e.g. `/pub/app/file`. */
  path: string;
  storePath: string;
  /** content_hash from the event, when the feed gave one. */
  contentHash?: string;
  /** The index entry for this path, if any (whether the file is really there is checked here). */
  known?: IndexEntry;
  /**
   * Hash the copy on disk even when its size and mtime match the index (`check --repair` after
   * `--read-data` found bit rot that changes neither).
   */
  verifyLocal?: boolean;
}

interface Downloaded {
  size: number;
  blake3: string;
  etag?: string;
  /** Modification time of the file in the backup (ms), for the index. */
  mtimeMs?: number;
  /**
   * The file in the backup did not hold the bytes the index records (damaged or edited on this
   * disk): it was replaced by the homeserver's, the damaged copy kept in `versions/`.
   */
  repaired?: boolean;
  /** The previous copy, now a version: where, and its size and BLAKE3 (for the versions index). */
  replaced?: { storePath: string; size: number; blake3: string };
}

export type DownloadResult = ({ kind: 'stored' } & Downloaded) | ({ kind: 'unchanged' } & Downloaded);

/**
 * A file whose bytes are received and verified (or found unchanged). `result` settles once they are
 * durable at their final path: the commit (fsync + rename) runs in the store's background queue
 * (`StagedFile.commitLater`), so the download slot can serve the next file meanwhile. A commit that
 * fails rejects `result`; the caller records the file only after `result` resolves.
 */
export interface Received {
  result: Promise<DownloadResult>;
}

/** The homeserver served bytes that do not match the hash it announced (ETag or content_hash). */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

/** `receiveFile`, waiting for the commit too. */
export async function downloadFile(
  client: HomeserverClient,
  store: BackupStore,
  request: DownloadRequest,
  signal?: AbortSignal,
): Promise<DownloadResult> {
  return (await receiveFile(client, store, request, signal)).result;
}

/**
 * Downloads one file into the store: streams the body to a staged temp file while hashing it with
 * BLAKE3, and commits only when the hash matches the ETag (or the event's content_hash). Returns
 * once the bytes are verified in the temp file, with the commit queued (see `Received`). The copy
 * already in the backup is trusted only when the index vouches for it (same size and mtime as when
 * written); otherwise its own BLAKE3 decides, so identical bytes are never downloaded again or kept
 * as a "previous version", and bytes damaged on this disk are replaced. Transient failures are
 * retried a few times here; what still fails is thrown for the retry queue.
 */
export async function receiveFile(
  client: HomeserverClient,
  store: BackupStore,
  request: DownloadRequest,
  signal?: AbortSignal,
): Promise<Received> {
  const held = await heldCopy(store, request);
  // Replaying an event for content we already hold costs no download.
  if (held && !held.damaged && request.contentHash === held.entry.blake3) {
    return settled({ kind: 'unchanged', ...unchanged(held.entry) });
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadOnce(client, store, request, held, signal);
    } catch (error) {
      const wait = retryDelay(error, attempt);
      if (wait === undefined || signal?.aborted) throw error;
      await sleep(wait, signal);
    }
  }
}

/** What the backup holds for a path: its entry (verified against the file), and whether it is damaged. */
interface Held {
  entry: IndexEntry;
  /** The file's bytes differ from what the index records. */
  damaged: boolean;
}

/**
 * The copy in the backup. The index entry is taken as is when the file still has the size and
 * mtime recorded with it; a file the index does not know (a crash between the file and the index,
 * the original app's folder) or that changed since (touched, damaged) is hashed.
 */
async function heldCopy(store: BackupStore, request: DownloadRequest): Promise<Held | undefined> {
  const local = await store.fileInfo(request.storePath);
  if (!local) return undefined;
  const known = request.known;
  if (
    known &&
    known.size === local.size &&
    (known.mtimeMs === undefined || known.mtimeMs === local.mtimeMs)
  ) {
    return { entry: known, damaged: false };
  }
  const { blake3, size } = await hashStream(store.read(local.path));
  const entry: IndexEntry = {
    path: request.path,
    size,
    blake3,
    cursor: known?.cursor ?? '0',
    mtimeMs: local.mtimeMs,
  };
  if (known && known.blake3 === blake3)
    return { entry: { ...known, size, mtimeMs: local.mtimeMs }, damaged: false };
  return { entry, damaged: known !== undefined };
}

function settled(result: DownloadResult): Received {
  return { result: Promise.resolve(result) };
}

function unchanged(entry: IndexEntry): Downloaded {
  return {
    size: entry.size,
    blake3: entry.blake3,
    ...(entry.etag !== undefined && { etag: entry.etag }),
    ...(entry.mtimeMs !== undefined && { mtimeMs: entry.mtimeMs }),
  };
}

/** How long to wait before trying again in place, or undefined to give up now. */
function retryDelay(error: unknown, attempt: number): number | undefined {
  if (attempt >= IMMEDIATE_ATTEMPTS) return undefined;
  if (error instanceof IntegrityError) return 200 * attempt;
  if (!(error instanceof HomeserverError) || isUnreachable(error)) return undefined;
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
  held: Held | undefined,
  signal?: AbortSignal,
): Promise<Received> {
  // Only intact bytes may be revalidated with a conditional GET; damaged ones are fetched whole.
  const known = held && !held.damaged ? held.entry : undefined;
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
    return settled({ kind: 'unchanged', ...unchanged(known), ...(response.etag && { etag: response.etag }) });
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
        `the homeserver sent bytes whose BLAKE3 (${blake3}) differs from the hash it announced ` +
          `(${expected}); not stored.`,
      );
    }
    if (held && held.entry.blake3 === blake3) {
      // The same bytes as the copy in the backup: nothing to write, no version to keep.
      await staged.abort();
      return settled({
        kind: 'unchanged',
        ...unchanged(held.entry),
        ...(response.etag && { etag: response.etag }),
      });
    }
    // The slot is free once the bytes are in the temp file; fsync + rename follow in the background.
    const { committed } = await staged.commitLater({ signal });
    const result = committed.then(
      (done): DownloadResult => ({
        kind: 'stored',
        size,
        blake3,
        ...(response.etag !== undefined && { etag: response.etag }),
        ...(done.mtimeMs !== undefined && { mtimeMs: done.mtimeMs }),
        ...(held?.damaged && { repaired: true }),
        ...(done.replaced &&
          held && {
            replaced: { storePath: done.replaced, size: held.entry.size, blake3: held.entry.blake3 },
          }),
      }),
    );
    // Awaited by the caller once this returns; never an unhandled rejection before that.
    result.catch(() => {});
    return { result };
  } catch (error) {
    await staged.abort();
    throw error;
  }
}
