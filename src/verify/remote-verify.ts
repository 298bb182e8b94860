import PQueue from 'p-queue';
import { compareCursors, type HomeserverClient, HomeserverError } from '../homeserver/index.js';
import {
  FileIndex,
  hashStream,
  type IndexEntry,
  type KeyLayout,
  RetryQueue,
  readCursor,
  readKeyConfig,
} from '../store/index.js';
import { FeedReader } from '../sync/feed.js';
import { isUnreachable } from '../sync/retry-policy.js';
import { sleep } from '../util/sleep.js';

/**
 * What differs between the backup and the homeserver, for one file:
 * - `missing`: in the backup, not on the homeserver — gone without a DEL event the backup saw;
 * - `changed`: on both, but the homeserver's bytes (ETag, or with `readData` the bytes it serves)
 *   are not the backed-up ones — changed without a PUT event: tampering, or damage;
 * - `not-backed-up`: on the homeserver, not in the backup (or only waiting in its retry queue);
 * - `unverifiable`: the homeserver gives no ETag that is a BLAKE3 hash (without `readData`), or
 *   would not answer for this file (a 5xx twice, say).
 */
export type RemoteProblem = 'missing' | 'changed' | 'not-backed-up' | 'unverifiable';

export interface RemoteFinding {
  /** Homeserver path, `/pub/…`. */
  path: string;
  problem: RemoteProblem;
  detail: string;
  /** What the backup holds (its index), when it knows the file. */
  backup?: { size: number; blake3: string };
  /** What the homeserver says (HEAD) or serves (`readData`). */
  homeserver?: { size?: number; etag?: string; blake3?: string };
}

export interface RemoteVerifyReport {
  pubky: string;
  /** Base URL of the homeserver compared with. */
  homeserver: string;
  /** ISO 8601 UTC, when the comparison started. */
  checkedAt: string;
  readData: boolean;
  /** `identical` only when every file matched and nothing is missing on either side. */
  outcome: 'identical' | 'differences';
  counts: {
    /** Files in the backup's index, and listed by the homeserver. */
    backup: number;
    homeserver: number;
    identical: number;
    missing: number;
    changed: number;
    notBackedUp: number;
    unverifiable: number;
  };
  /** Bytes downloaded and hashed (`readData` only). */
  bytesRead: number;
  /** The backup's cursor against the newest event of the user's feed on this homeserver. */
  cursor: {
    backup: string;
    homeserverHead: string | null;
    /** The homeserver has events the backup has not applied: some differences may be just that. */
    behind: boolean;
    /** The cursor belongs to another homeserver (the user moved; the next sync reconciles). */
    fromOtherHomeserver: boolean;
  };
  /** What the counts mean here, in words (cursor behind, listing lines skipped…). */
  notes: string[];
  findings: RemoteFinding[];
}

export interface RemoteVerifyOptions {
  /** The homeserver to compare with. */
  client: HomeserverClient;
  layout: KeyLayout;
  /** How the backup names this homeserver (key, or pinned URL): compared with key.json `syncedFrom`. */
  identity?: string;
  /** HEAD (or GET) requests in flight. Default 8. */
  concurrency?: number;
  /** GET every file and hash its bytes instead of trusting the ETag. */
  readData?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  now?: () => Date;
}

/**
 * Compares the backup of `layout`'s pubky with what its homeserver serves, without downloading
 * (`readData`: downloading and hashing every file): the homeserver's listing (`GET /pub/`,
 * recursive, paged) against the backup's index, then one HEAD per file in both, its ETag (BLAKE3:
 * base64 on v0.6+, hex before, protocol.md §5/§8) against the BLAKE3 the index records. Also reads
 * the head of the user's feed (one request) to say whether the backup's cursor is behind — then
 * some differences may only be events not applied yet. Reads only; safe beside a running sync.
 * Throws `HomeserverError` when the homeserver cannot be listed (unreachable, refusing).
 */
export async function verifyAgainstHomeserver(options: RemoteVerifyOptions): Promise<RemoteVerifyReport> {
  const { client, layout, signal } = options;
  const pubky = layout.z32;
  const checkedAt = (options.now ?? (() => new Date()))().toISOString();
  const [index, retry, cursor, keyConfig] = await Promise.all([
    FileIndex.open(layout.indexFile),
    RetryQueue.open(layout.retryFile).catch(() => undefined),
    readCursor(layout.cursorFile),
    readKeyConfig(layout.keyConfigFile, pubky),
  ]);
  const pending = new Map((retry?.all() ?? []).map((item) => [item.path, item]));
  const notes: string[] = [];
  const fromOtherHomeserver =
    options.identity !== undefined &&
    keyConfig.syncedFrom !== undefined &&
    keyConfig.syncedFrom !== options.identity;
  // One small request, asked while the files are compared.
  const headOfFeed = fromOtherHomeserver ? Promise.resolve(undefined) : feedHead(client, pubky, signal);

  const findings: RemoteFinding[] = [];
  const counts = {
    backup: index.size,
    homeserver: 0,
    identical: 0,
    missing: 0,
    changed: 0,
    notBackedUp: 0,
    unverifiable: 0,
  };
  const add = (finding: RemoteFinding) => {
    findings.push(finding);
    if (finding.problem === 'not-backed-up') counts.notBackedUp++;
    else counts[finding.problem]++;
  };
  let bytesRead = 0;
  let done = 0;
  let compared = 0;
  let listingDone = false;
  let fatal: unknown;
  const stop = new AbortController();
  const both = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  const queue = new PQueue({ concurrency: options.concurrency ?? 8 });
  const compare = async (entry: IndexEntry) => {
    try {
      const outcome = await compareOne(client, pubky, entry, options.readData === true, both);
      bytesRead += outcome.bytesRead ?? 0;
      if (outcome.finding) add(outcome.finding);
      else counts.identical++;
      // Until the listing is complete the total is what the index expects.
      options.onProgress?.(++done, listingDone ? compared : Math.max(compared, index.size));
    } catch (error) {
      fatal ??= error;
      stop.abort(error);
    }
  };
  // The listing is read while the first files are already being compared.
  const onHomeserver = new Set<string>();
  let skippedLines = 0;
  try {
    for await (const path of client.list(pubky, '/pub/', { signal: both, onSkipped: () => skippedLines++ })) {
      onHomeserver.add(path);
      const entry = index.get(path);
      const retrying = pending.get(path);
      if (entry && !retrying) {
        compared++;
        void queue.add(() => compare(entry));
        continue;
      }
      add({
        path,
        problem: 'not-backed-up',
        detail: retrying ? `waiting for a retry in the backup: ${retrying.lastError}` : 'not in the backup',
        ...(entry && { backup: { size: entry.size, blake3: entry.blake3 } }),
      });
    }
  } catch (error) {
    fatal ??= error;
    stop.abort(error);
  }
  listingDone = true;
  counts.homeserver = onHomeserver.size;
  await queue.onIdle();
  await headOfFeed.catch(() => undefined);
  signal?.throwIfAborted();
  if (fatal !== undefined) throw fatal;
  if (skippedLines > 0) notes.push(`${skippedLines} lines of the homeserver's listing could not be read`);
  for (const entry of index.entries()) {
    if (onHomeserver.has(entry.path)) continue;
    add({
      path: entry.path,
      problem: 'missing',
      detail: 'in the backup, not on the homeserver: gone without a DEL event',
      backup: { size: entry.size, blake3: entry.blake3 },
    });
  }
  findings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const head = await headOfFeed;
  const behind = head !== undefined && (compareCursors(head, cursor) ?? 0) > 0;
  if (fromOtherHomeserver) {
    notes.push(
      `the backup's cursor belongs to the homeserver it last synced from (${keyConfig.syncedFrom}); ` +
        'the next sync compares it with this one by listing',
    );
  } else if (behind) {
    notes.push(
      `the backup's cursor ${cursor} is behind the homeserver's feed (newest event ${head}): some differences ` +
        'may be events the backup has not applied yet; run `pubky-backup sync --once` and verify again',
    );
  }
  return {
    pubky,
    homeserver: client.baseUrl,
    checkedAt,
    readData: options.readData === true,
    outcome: findings.length === 0 ? 'identical' : 'differences',
    counts,
    bytesRead,
    cursor: { backup: cursor, homeserverHead: head ?? null, behind, fromOtherHomeserver },
    notes,
    findings,
  };
}

interface Compared {
  finding?: RemoteFinding;
  bytesRead?: number;
}

/**
 * One file, by ETag or by bytes. A 5xx, 429 or dropped connection is asked again once; a file
 * that still cannot be read is `unverifiable` (with the homeserver's answer), not the end of the
 * whole verify. A homeserver that cannot be reached at all, or an abort, ends it.
 */
async function compareOne(
  client: HomeserverClient,
  pubky: string,
  entry: IndexEntry,
  readData: boolean,
  signal?: AbortSignal,
): Promise<Compared> {
  for (let attempt = 1; ; attempt++) {
    try {
      return readData
        ? await compareBytes(client, pubky, entry, signal)
        : await compareEtag(client, pubky, entry, signal);
    } catch (error) {
      if (!(error instanceof HomeserverError) || error.kind === 'aborted' || isUnreachable(error))
        throw error;
      const transient = error.kind === 'server' || error.kind === 'rate-limited' || error.kind === 'network';
      if (transient && attempt === 1) {
        await sleep(Math.min(error.retryAfterMs ?? 500, 5000), signal);
        continue;
      }
      return {
        finding: {
          path: entry.path,
          problem: 'unverifiable',
          detail: `the homeserver did not let it be checked: ${error.message}`,
          backup: { size: entry.size, blake3: entry.blake3 },
        },
      };
    }
  }
}

/** A listed file the homeserver answers 404 for is `missing`; any other error is thrown on. */
function notServed(error: unknown, entry: IndexEntry): Compared {
  if (!isNotFound(error)) throw error;
  return {
    finding: {
      path: entry.path,
      problem: 'missing',
      detail: 'listed, but the homeserver does not serve it',
      backup: { size: entry.size, blake3: entry.blake3 },
    },
  };
}

/** HEAD: the ETag read as BLAKE3 against the index. */
async function compareEtag(
  client: HomeserverClient,
  pubky: string,
  entry: IndexEntry,
  signal?: AbortSignal,
): Promise<Compared> {
  const backup = { size: entry.size, blake3: entry.blake3 };
  let meta: Awaited<ReturnType<HomeserverClient['head']>>;
  try {
    meta = await client.head(pubky, entry.path, signal);
  } catch (error) {
    return notServed(error, entry);
  }
  const homeserver = {
    ...(meta.size !== undefined && { size: meta.size }),
    ...(meta.etag && { etag: meta.etag }),
  };
  if (meta.contentHash === undefined) {
    return {
      finding: {
        path: entry.path,
        problem: 'unverifiable',
        detail: meta.etag ? `its ETag "${meta.etag}" is not a BLAKE3 hash` : 'the homeserver sends no ETag',
        backup,
        homeserver,
      },
    };
  }
  if (meta.contentHash === entry.blake3) return {};
  return {
    finding: {
      path: entry.path,
      problem: 'changed',
      detail: `the homeserver holds other bytes (BLAKE3 ${meta.contentHash}${meta.size === undefined ? '' : `, ${meta.size} bytes`}) than the backup (${entry.blake3}, ${entry.size} bytes), with no PUT event`,
      backup,
      homeserver: { ...homeserver, blake3: meta.contentHash },
    },
  };
}

/** GET: the served bytes' BLAKE3 against the index (and against the homeserver's own ETag). */
async function compareBytes(
  client: HomeserverClient,
  pubky: string,
  entry: IndexEntry,
  signal?: AbortSignal,
): Promise<Compared> {
  const backup = { size: entry.size, blake3: entry.blake3 };
  let response: Awaited<ReturnType<HomeserverClient['get']>>;
  try {
    response = await client.get(pubky, entry.path, { signal });
  } catch (error) {
    return notServed(error, entry);
  }
  const { blake3, size } = await hashStream(response.body);
  if (blake3 === entry.blake3 && size === entry.size) return { bytesRead: size };
  const etagSays =
    response.contentHash !== undefined && response.contentHash !== blake3
      ? `; its ETag still names ${response.contentHash}: the homeserver's storage is damaged`
      : '';
  return {
    bytesRead: size,
    finding: {
      path: entry.path,
      problem: 'changed',
      detail: `the homeserver serves other bytes (${size} bytes, BLAKE3 ${blake3}) than the backup (${entry.size} bytes, ${entry.blake3})${etagSays}`,
      backup,
      homeserver: { size, blake3, ...(response.etag && { etag: response.etag }) },
    },
  };
}

/** The newest cursor of the user's feed here, or undefined when it cannot be told. */
async function feedHead(
  client: HomeserverClient,
  pubky: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    return await new FeedReader(client, pubky).head(signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    return undefined;
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof HomeserverError && error.kind === 'not-found';
}
