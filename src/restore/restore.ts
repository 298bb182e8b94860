import PQueue from 'p-queue';
import { type HomeserverClient, HomeserverError, type Session } from '../homeserver/index.js';
import { hashStream } from '../store/index.js';
import { isUnreachable } from '../sync/retry-policy.js';
import { RestoreError } from './errors.js';
import type { RestoreJournal } from './journal.js';
import type { RestoreSource, SourceFile } from './source.js';
import { landed, SourceDamagedError, uploadFile } from './upload.js';

export interface RestoreProgress {
  /** Files handled so far (uploaded, already there, failed), of `total`. */
  done: number;
  total: number;
  /** Bytes uploaded so far, of `totalBytes` (every source file's size). */
  bytes: number;
  totalBytes: number;
}

export interface RestoreOptions {
  /** The user (z32) whose files these are. */
  pubky: string;
  source: RestoreSource;
  /** The target homeserver. */
  client: HomeserverClient;
  /** The user's session there; not needed for a dry run. */
  session?: Session;
  /** Files in flight at once (HEAD + PUT). Default 8. */
  concurrency?: number;
  /** Only find out what would be uploaded: reads the target's listing and ETags, writes nothing. */
  dryRun?: boolean;
  /** Delete files on the target that the source does not have. Never done otherwise. */
  deleteExtra?: boolean;
  journal?: RestoreJournal;
  signal?: AbortSignal;
  onProgress?: (progress: RestoreProgress) => void;
}

export interface RestoreSummary {
  dryRun: boolean;
  source: { kind: RestoreSource['kind']; location: string };
  target: string;
  /** Files and bytes in the source that can be restored. */
  files: number;
  bytes: number;
  /** Uploaded now (with `dryRun`: would be uploaded). */
  uploaded: number;
  uploadedBytes: number;
  /** Already on the target with the same bytes (its ETag is their BLAKE3): skipped. */
  alreadyThere: number;
  /** Files that could not be restored, each with why (upload failed, damaged in the source…). */
  failed: Array<{ path: string; reason: string }>;
  /** Files on the target the source does not have (kept unless `deleteExtra`). */
  extra: number;
  extraPaths: string[];
  deleted: number;
  /** Files an earlier, interrupted run to this target had uploaded. */
  resumedAfter: number;
  notes: string[];
}

const MAX_LISTED_EXTRA = 20;

/**
 * Uploads every file of `source` to the target as `pubky`, streaming (bounded memory: `concurrency`
 * files in flight, each one chunk held back for its check), each verified against the BLAKE3 the
 * source vouches for while it streams (see `verifiedBytes`). Resumable: the target's listing is
 * read first, and a file it already holds whose ETag is the source's BLAKE3 is skipped — so after
 * a crash a rerun uploads only the rest, and no file twice. Files on the target that the source
 * lacks are deleted only with `deleteExtra`. A target that refuses writes (401/403, full quota 507)
 * or cannot be reached stops the whole restore (`RestoreError` `WRITES_REFUSED` /
 * `TARGET_UNREACHABLE`); other failures are per file, in `failed`.
 */
export async function restoreFiles(options: RestoreOptions): Promise<RestoreSummary> {
  const { source, client, pubky } = options;
  if (!options.dryRun && !options.session) throw new Error('restoreFiles needs a session unless dryRun');
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const listed = await listTarget(client, pubky, signal);
  const totalBytes = source.files.reduce((n, f) => n + f.size, 0);
  const summary: RestoreSummary = {
    dryRun: options.dryRun === true,
    source: { kind: source.kind, location: source.location },
    target: client.baseUrl,
    files: source.files.length,
    bytes: totalBytes,
    uploaded: 0,
    uploadedBytes: 0,
    alreadyThere: 0,
    failed: source.unusable.map((u) => ({ ...u })),
    extra: 0,
    extraPaths: [],
    deleted: 0,
    resumedAfter: options.journal?.previous ?? 0,
    notes: [...source.notes],
  };
  const progress: RestoreProgress = { done: 0, total: source.files.length, bytes: 0, totalBytes };
  const report = () => options.onProgress?.({ ...progress });
  let fatal: unknown;

  const queue = new PQueue({ concurrency: options.concurrency ?? 8 });
  const restoreOne = async (file: SourceFile) => {
    try {
      if (listed.has(file.path) && (await sameOnTarget(client, pubky, file, signal))) {
        summary.alreadyThere++;
      } else if (options.dryRun) {
        summary.uploaded++;
        summary.uploadedBytes += file.size;
      } else {
        const blake3 = await uploadFile(client, options.session as Session, file, {
          signal,
          onBytes: (n) => {
            progress.bytes += n;
            report();
          },
        });
        summary.uploaded++;
        summary.uploadedBytes += file.size;
        options.journal?.uploaded(file.path, blake3);
      }
    } catch (error) {
      if (signal.aborted) return;
      const stopping = fatalError(error);
      if (stopping) {
        fatal ??= stopping;
        stop.abort(stopping);
        return;
      }
      summary.failed.push({ path: file.path, reason: reasonOf(error) });
    } finally {
      progress.done++;
      report();
    }
  };
  for (const file of source.files) void queue.add(() => restoreOne(file));
  await queue.onIdle();
  await options.journal?.flush().catch(() => {});
  if (fatal) throw fatal;
  options.signal?.throwIfAborted();

  const wanted = new Set([...source.files.map((f) => f.path), ...source.unusable.map((u) => u.path)]);
  const extra = [...listed].filter((path) => !wanted.has(path));
  summary.extra = extra.length;
  summary.extraPaths = extra.slice(0, MAX_LISTED_EXTRA);
  if (options.deleteExtra && !options.dryRun) {
    for (const path of extra) {
      try {
        await client.delete(options.session as Session, path, { signal: options.signal });
        summary.deleted++;
      } catch (error) {
        if (options.signal?.aborted) throw error;
        summary.failed.push({ path, reason: `could not delete it from the target: ${reasonOf(error)}` });
      }
    }
  }
  if (!options.dryRun) await options.journal?.finish(summary.uploaded, summary.failed.length);
  return summary;
}

/** Every path the target holds for the user (nothing when it does not know the user). */
export async function listTarget(
  client: HomeserverClient,
  pubky: string,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const listed = new Set<string>();
  try {
    for await (const path of client.list(pubky, '/pub/', { signal })) listed.add(path);
  } catch (error) {
    if (error instanceof HomeserverError && error.kind === 'not-found') return listed;
    throw fatalError(error) ?? error;
  }
  return listed;
}

/** Whether the target already holds the file's bytes (HEAD: its ETag is their BLAKE3). */
async function sameOnTarget(
  client: HomeserverClient,
  pubky: string,
  file: SourceFile,
  signal: AbortSignal,
): Promise<boolean> {
  const expected = file.blake3 ?? (await hashStream(file.read())).blake3;
  return landed(client, pubky, file.path, expected, signal);
}

/** Failures that make every other upload pointless: the target refuses writes or is gone. */
function fatalError(error: unknown): RestoreError | undefined {
  if (!(error instanceof HomeserverError)) return undefined;
  if (isUnreachable(error)) {
    return new RestoreError(
      'TARGET_UNREACHABLE',
      `The target homeserver cannot be reached: ${error.message}`,
      {
        cause: error,
      },
    );
  }
  if (error.kind === 'auth' || error.status === 507) {
    return new RestoreError(
      'WRITES_REFUSED',
      `The target homeserver refuses the user's writes (${error.status}${error.body ? ` "${error.body}"` : ''}): ` +
        (error.status === 507
          ? 'the account is over its storage quota there.'
          : 'the session was refused or the account is disabled there.'),
      { cause: error },
    );
  }
  return undefined;
}

function reasonOf(error: unknown): string {
  if (error instanceof SourceDamagedError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
