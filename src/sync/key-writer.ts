import type PQueue from 'p-queue';
import { BackupError } from '../errors.js';
import { type FeedEvent, type HomeserverClient, HomeserverError } from '../homeserver/index.js';
import {
  acquireWriteLock,
  type BackupStore,
  type CursorAnchor,
  type FileIndex,
  hashStream,
  type KeyLayout,
  type PausedState,
  type RetryItem,
  type RetryQueue,
  writeAnchor,
  writeCursor,
  writePaused,
} from '../store/index.js';
import { pruneVersions, restoreVersion } from '../versions/index.js';
import { type PlannedChange, planBatch } from './batch.js';
import { isMassDelete } from './delete-guard.js';
import { IntegrityError, receiveFile } from './download.js';
import { pausedReason } from './pause.js';
import { isUnreachable, nextAttemptDelayMs } from './retry-policy.js';
import type { SyncReport } from './status.js';

/** What a `KeyWriter` works with; `client` and `downloads` change when the user moves homeserver. */
export interface KeyWriterContext {
  readonly pubky: string;
  readonly layout: KeyLayout;
  readonly store: BackupStore;
  readonly index: FileIndex;
  /** Size and BLAKE3 of every version this key keeps (see `KeyLayout.versionsIndexFile`). */
  readonly versionsIndex: FileIndex;
  readonly retry: RetryQueue;
  client(): HomeserverClient;
  downloads(): PQueue;
  now(): number;
  log(type: string, message: string, extra?: Record<string, unknown>): Promise<void>;
  /** After each change of a batch (progress bars). */
  onChange(done: number, total: number, bytes: number): void;
  onPaused(state: PausedState): void;
}

/** Files committed between two index checkpoints within a batch, at most. */
const CHECKPOINT_FILES = 100;
/** Time between two index checkpoints within a batch, at most (ms). */
const CHECKPOINT_MS = 2_000;

/**
 * A failure that is not the file's but the whole run's: the homeserver cannot be reached, or the
 * backup's disk is full. The batch stops without moving the cursor (files already written stay
 * recorded) and the run ends with this error, rather than filing every file as failed.
 */
export class BatchAborted extends BackupError {
  override readonly name = 'BatchAborted';
  declare readonly code: 'HOMESERVER_UNREACHABLE' | 'DISK_FULL';
  constructor(code: 'HOMESERVER_UNREACHABLE' | 'DISK_FULL', message: string, options: { cause: unknown }) {
    super(code, message, 'unavailable', {}, options);
  }
}

/**
 * The writing half of a key's sync: applies planned changes to the store, keeps the index, the
 * versions journal, the retry queue and the cursor, in the one order that makes a crash harmless —
 * files (fsynced), their folders, the indexes, the retry queue, then the cursor. Within a batch the
 * index is checkpointed every 100 files or 2 s, so a killed process finds what it already verified
 * (no download, no duplicate version) even when the batch never finished.
 */
export class KeyWriter {
  cursor: string;
  private anchor: CursorAnchor | undefined;
  /** Set by the first systemic failure of a batch: the other downloads stop at once. */
  private aborted: BatchAborted | undefined;

  constructor(
    private readonly ctx: KeyWriterContext,
    cursor: string,
    anchor: CursorAnchor | undefined,
  ) {
    this.cursor = cursor;
    this.anchor = anchor;
  }

  get currentAnchor(): CursorAnchor | undefined {
    return this.anchor;
  }

  /**
   * Plans `events` (unsafe paths set aside and logged), checks the mass-delete guard, then writes
   * the batch under the key's write lock and moves the cursor to `cursor`.
   */
  async applyBatch(
    events: readonly FeedEvent[],
    cursor: string,
    report: SyncReport,
    options: { deletesAccepted: boolean; signal?: AbortSignal; anchor?: CursorAnchor },
  ): Promise<'applied' | 'paused'> {
    const plan = planBatch(this.ctx.pubky, events);
    for (const ignored of plan.ignored) {
      report.ignored++;
      await this.ctx.log('ignored-event', `ignored ${ignored.uri}: ${ignored.message}`, {
        reason: ignored.reason,
      });
    }
    const { index } = this.ctx;
    const deletes = plan.changes.filter((c) => c.type === 'DEL' && index.get(c.path)).length;
    if (!options.deletesAccepted && isMassDelete(deletes, index.size)) {
      const paused: PausedState = {
        reason: 'mass-delete',
        cursor: this.cursor,
        deletes,
        files: index.size,
        accepted: false,
      };
      await writePaused(this.ctx.layout, paused);
      await this.ctx.log('paused', pausedReason(paused));
      report.paused = true;
      this.ctx.onPaused(paused);
      return 'paused';
    }
    // Snapshots freeze the file list under this lock: a batch is never half in a snapshot.
    const release = await acquireWriteLock(this.ctx.layout.stateDir, {
      signal: options.signal,
      command: 'sync',
    });
    try {
      await this.writeBatch(plan.changes, cursor, report, options.signal, options.anchor);
    } finally {
      await release();
    }
    return 'applied';
  }

  /** Files due for another attempt, under the write lock. */
  async retryDue(report: SyncReport, signal?: AbortSignal): Promise<void> {
    const due = this.ctx.retry.due(this.ctx.now());
    if (due.length === 0) return;
    const release = await acquireWriteLock(this.ctx.layout.stateDir, { signal, command: 'sync' });
    try {
      await this.settle(due.map((item) => this.retryItem(item, report, signal)));
      await this.persist();
    } finally {
      await release();
    }
  }

  /**
   * Fetches these files again from the homeserver now (`check --repair`): a damaged copy is
   * replaced and kept in `versions/` as evidence, a missing one downloaded, one the index did not
   * know adopted (or replaced). A file the homeserver no longer has leaves the index and, if it is on
   * disk, goes to `versions/` — never deleted.
   */
  async repair(paths: readonly string[], report: SyncReport, signal?: AbortSignal): Promise<void> {
    const release = await acquireWriteLock(this.ctx.layout.stateDir, { signal, command: 'check --repair' });
    try {
      await this.settle(paths.map((path) => this.repairOne(path, report, signal)));
      await this.persist();
    } finally {
      await release();
    }
  }

  /** Puts a previous version back, updating this key's own index and versions journal. */
  restoreVersion(path: string, at?: Date) {
    return restoreVersion(this.ctx.store, this.ctx.layout, path, {
      at,
      index: this.ctx.index,
      versionsIndex: this.ctx.versionsIndex,
    });
  }

  /** Applies the versions retention under the write lock, with this key's own versions journal. */
  async pruneVersions(keepDays: number): Promise<number> {
    const release = await acquireWriteLock(this.ctx.layout.stateDir, { command: 'versions retention' });
    try {
      const plan = await pruneVersions(this.ctx.store, this.ctx.versionsIndex, {
        keepDays,
        now: new Date(this.ctx.now()),
      });
      if (plan.remove.length > 0) {
        await this.ctx.log(
          'versions-pruned',
          `${plan.remove.length} versions older than ${keepDays} days deleted; ${plan.keep} kept`,
        );
      }
      return plan.remove.length;
    } finally {
      await release();
    }
  }

  private async writeBatch(
    changes: PlannedChange[],
    cursor: string,
    report: SyncReport,
    signal?: AbortSignal,
    anchor?: CursorAnchor,
  ): Promise<void> {
    let done = 0;
    let sinceCheckpoint = 0;
    let checkpointAt = this.ctx.now();
    let checkpointing: Promise<void> | undefined;
    const afterChange = () => {
      this.ctx.onChange(++done, changes.length, report.bytes);
      sinceCheckpoint++;
      const due = sinceCheckpoint >= CHECKPOINT_FILES || this.ctx.now() - checkpointAt >= CHECKPOINT_MS;
      if (!due || checkpointing) return;
      sinceCheckpoint = 0;
      checkpointAt = this.ctx.now();
      checkpointing = this.checkpoint().finally(() => {
        checkpointing = undefined;
      });
    };
    await this.settle(
      changes.map(async (change) => {
        if (change.type === 'DEL') await this.applyDelete(change, report);
        // The index records the cursor of the event that brought this version (see `dropNoOpReplays`).
        else await this.applyPut(change, change.cursor ?? cursor, report, signal);
        afterChange();
      }),
    );
    await checkpointing;
    await this.persist();
    await writeCursor(this.ctx.layout.cursorFile, cursor);
    this.cursor = cursor;
    if (anchor?.cursor !== this.anchor?.cursor || cursor !== anchor?.cursor) {
      this.anchor = anchor?.cursor === cursor ? anchor : undefined;
      await writeAnchor(this.ctx.layout.anchorFile, this.anchor);
    }
  }

  /**
   * Waits for every task, then throws the batch's systemic failure if there was one (all tasks
   * settle first: none keeps writing after the batch is given up).
   */
  private async settle(tasks: Array<Promise<unknown>>): Promise<void> {
    this.aborted = undefined;
    const results = await Promise.allSettled(tasks);
    const failure =
      this.aborted ?? results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    this.aborted = undefined;
    if (failure) throw failure;
  }

  /**
   * Durable in this order: files (committed; their folders fsynced now), the versions journal and
   * the index (changes taken in the same tick as the folder fsync, so the index never vouches for a
   * file whose folder entry is not on disk), the retry queue.
   */
  private async persist(): Promise<void> {
    const ready = this.ctx.store.flush();
    await Promise.all([this.ctx.versionsIndex.flushAfter(ready), this.ctx.index.flushAfter(ready)]);
    await this.ctx.retry.save();
  }

  /** Mid-batch: what is verified and on disk so far becomes findable after a crash. */
  private async checkpoint(): Promise<void> {
    const ready = this.ctx.store.flush();
    await Promise.all([this.ctx.versionsIndex.flushAfter(ready), this.ctx.index.flushAfter(ready)]).catch(
      () => {
        // reported by the batch's own final flush
      },
    );
  }

  /**
   * Downloads one file in a download slot, which is free again once the bytes are verified in their
   * temp file; the commit (fsync + rename) finishes in the store's background queue, and only then
   * is the file recorded (index, versions journal, retry queue). A failed commit is the file's
   * failure like a failed download (retry queue), or the batch's (`BatchAborted`, disk full).
   * Resolves to false when the file's failure was queued for retry.
   */
  private async applyPut(
    change: PlannedChange,
    cursor: string,
    report: SyncReport,
    signal?: AbortSignal,
    verifyLocal = false,
  ): Promise<boolean> {
    const { index } = this.ctx;
    try {
      const received = await this.ctx.downloads().add(
        () => {
          if (this.aborted) throw this.aborted;
          return receiveFile(
            this.ctx.client(),
            this.ctx.store,
            {
              user: this.ctx.pubky,
              path: change.path,
              storePath: change.storePath,
              contentHash: change.contentHash,
              known: index.get(change.path),
              verifyLocal,
            },
            signal,
          );
        },
        { throwOnTimeout: true },
      );
      const result = await received.result;
      index.set({
        path: change.path,
        size: result.size,
        blake3: result.blake3,
        ...(result.etag !== undefined && { etag: result.etag }),
        ...(result.mtimeMs !== undefined && { mtimeMs: result.mtimeMs }),
        cursor,
      });
      if (result.replaced) this.recordVersion(result.replaced.storePath, result.replaced, cursor);
      if (result.kind === 'stored') {
        report.stored++;
        report.bytes += result.size;
      } else {
        report.unchanged++;
      }
      if (result.repaired) {
        report.repaired++;
        await this.ctx.log(
          'local-damage-repaired',
          `${change.path}: the copy on this disk no longer held the backed-up bytes; replaced by the homeserver's, the damaged copy kept in versions/`,
        );
      }
      this.ctx.retry.remove(change.path);
      return true;
    } catch (error) {
      if (signal?.aborted || error === this.aborted) throw error;
      const systemic = systemicFailure(error, this.ctx.client().baseUrl, this.ctx.layout.keyDir);
      if (systemic) {
        this.aborted ??= systemic;
        throw this.aborted;
      }
      await this.recordFailure(change.path, error, change.contentHash, report);
      return false;
    }
  }

  private async applyDelete(change: PlannedChange, report: SyncReport) {
    const { index, store } = this.ctx;
    this.ctx.retry.remove(change.path);
    const before = index.get(change.path);
    if (!before && !(await store.stat(change.storePath))) return;
    const version = await store.remove(change.storePath);
    if (version && before) this.recordVersion(version, before, before.cursor);
    index.delete(change.path);
    report.deleted++;
    await this.ctx.log('file-deleted', `${change.path} deleted on the homeserver; previous version kept`, {
      version,
    });
  }

  /** Never skips a file silently: every failure is queued, with backoff, and logged. */
  private async recordFailure(
    path: string,
    error: unknown,
    contentHash: string | undefined,
    report: SyncReport,
  ) {
    const previous = this.ctx.retry.get(path);
    const attempts = (previous?.attempts ?? 0) + 1;
    const missing = error instanceof HomeserverError && error.kind === 'not-found';
    let delay = nextAttemptDelayMs(attempts);
    if (error instanceof HomeserverError && error.retryAfterMs !== undefined)
      delay = Math.max(delay, error.retryAfterMs);
    const message = error instanceof Error ? error.message : String(error);
    this.ctx.retry.upsert({
      path,
      attempts,
      nextAttemptAtMs: this.ctx.now() + delay,
      lastError: message,
      contentHash,
      missing,
    });
    report.failed++;
    const type =
      error instanceof IntegrityError ? 'integrity-error' : missing ? 'file-missing' : 'file-failed';
    await this.ctx.log(type, `${path}: ${message}`, { attempts });
  }

  /** `applyPut` takes a download slot itself (only for the download, not the commit). */
  private async retryItem(item: RetryItem, report: SyncReport, signal?: AbortSignal) {
    const change = this.planPut(item.path);
    if (!change) return this.ctx.retry.remove(item.path);
    if (await this.applyPut({ ...change, contentHash: undefined }, this.cursor, report, signal)) {
      await this.ctx.log('retry-succeeded', `${item.path} downloaded after ${item.attempts} failed attempts`);
    }
  }

  private async repairOne(path: string, report: SyncReport, signal?: AbortSignal) {
    const change = this.planPut(path);
    if (!change) return;
    const { index, retry, store } = this.ctx;
    const stored = await this.applyPut(
      { ...change, contentHash: undefined },
      index.get(path)?.cursor ?? this.cursor,
      report,
      signal,
    );
    if (stored || !retry.get(path)?.missing) return;
    // Moving the copy to versions/ reads it whole (its BLAKE3): bounded by the download slots.
    await this.ctx.downloads().add(async () => {
      report.failed--;
      retry.remove(path);
      index.delete(path);
      const version = await store.remove(change.storePath);
      if (version) this.recordVersion(version, await hashStream(store.read(version)), this.cursor);
      await this.ctx.log(
        'repair-not-on-homeserver',
        `${path} is not on the homeserver any more${version ? `; the copy on this disk was moved to ${version}` : ''}`,
      );
    });
  }

  private planPut(path: string): PlannedChange | undefined {
    return planBatch(this.ctx.pubky, [{ type: 'PUT', uri: `pubky://${this.ctx.pubky}${path}`, path }])
      .changes[0];
  }

  /** Notes a new version's size and BLAKE3 (flushed with the index) so `check` can verify it. */
  private recordVersion(storePath: string, content: { size: number; blake3: string }, cursor: string): void {
    this.ctx.versionsIndex.set({ path: storePath, size: content.size, blake3: content.blake3, cursor });
  }
}

/** The failures that are the run's, not the file's: see `BatchAborted`. */
function systemicFailure(error: unknown, homeserver: string, keyDir: string): BatchAborted | undefined {
  if (isUnreachable(error)) {
    return new BatchAborted(
      'HOMESERVER_UNREACHABLE',
      `The homeserver ${homeserver} cannot be reached (${(error as Error).message}); the backup continues when it is back.`,
      { cause: error },
    );
  }
  if (isDiskFull(error)) {
    return new BatchAborted(
      'DISK_FULL',
      `The disk of the backup is full (${keyDir}): free some space; the backup continues where it stopped, nothing was lost.`,
      { cause: error },
    );
  }
  return undefined;
}

/** ENOSPC (or a quota, EDQUOT) anywhere in the error's cause chain. */
export function isDiskFull(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || /no space left on device/i.test(current.message))
      return true;
    current = current.cause;
  }
  return false;
}
