import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import type PQueue from 'p-queue';
import { type FeedEvent, type HomeserverClient, HomeserverError } from '../homeserver/index.js';
import {
  acquireWriteLock,
  appendActivity,
  type BackupStore,
  FileIndex,
  KeyLayout,
  type RetryItem,
  RetryQueue,
  readCursor,
  writeCursor,
} from '../store/index.js';
import { type PlannedChange, planBatch } from './batch.js';
import { isMassDelete } from './delete-guard.js';
import { downloadFile, IntegrityError } from './download.js';
import { FeedReader } from './feed.js';
import {
  acceptDeletes,
  clearPaused,
  type PausedState,
  pausedReason,
  readPaused,
  writePaused,
} from './pause.js';
import { nextAttemptDelayMs } from './retry-policy.js';
import { emptyReport, type SyncReport, type SyncStatus } from './status.js';

export interface KeySyncOptions {
  readonly dataDir: string;
  readonly pubky: string;
  readonly store: BackupStore;
  client: HomeserverClient;
  /** Download slots shared by every key on the same homeserver. */
  downloads: PQueue;
  batchSize?: number;
  now?: () => number;
}

export interface KeySyncEvents {
  status: [SyncStatus];
  progress: [{ done: number; total: number; bytes: number }];
}

/**
 * One backed-up pubky: follows its events from the persisted cursor, applies them to the store and
 * moves the cursor only once everything the batch covers is durable or queued for retry.
 */
export class KeySync extends EventEmitter<KeySyncEvents> {
  status: SyncStatus = { state: 'starting' };
  private running: Promise<SyncReport> | undefined;
  private feed: FeedReader;
  private readonly now: () => number;
  /** Counters of the current run, across its batches (what progress bars show). */
  private progress = { done: 0, total: 0, bytes: 0 };

  private constructor(
    private readonly options: KeySyncOptions,
    readonly layout: KeyLayout,
    private readonly index: FileIndex,
    private readonly retry: RetryQueue,
    private cursorValue: string,
  ) {
    super();
    this.feed = new FeedReader(options.client, options.pubky, options.batchSize);
    this.now = options.now ?? Date.now;
  }

  static async open(options: KeySyncOptions): Promise<KeySync> {
    const layout = new KeyLayout(options.dataDir, options.pubky);
    await mkdir(layout.stateDir, { recursive: true });
    await options.store.cleanTemp();
    const [index, retry, cursor] = await Promise.all([
      FileIndex.open(layout.indexFile),
      RetryQueue.open(layout.retryFile),
      readCursor(layout.cursorFile),
    ]);
    return new KeySync(options, layout, index, retry, cursor);
  }

  get pubky(): string {
    return this.options.pubky;
  }

  get cursor(): string {
    return this.cursorValue;
  }

  get fileCount(): number {
    return this.index.size;
  }

  get pendingRetries(): number {
    return this.retry.size;
  }

  /**
   * Catches up to the head of the feed, then retries due failures. Concurrent calls share one run
   * (a call during a run waits for it and then runs once more, so no wake-up is lost).
   */
  async catchUp(signal?: AbortSignal, options: { reconcile?: boolean } = {}): Promise<SyncReport> {
    const previous = this.running;
    const run = (async () => {
      await previous?.catch(() => {});
      return this.runCatchUp(signal, options.reconcile ?? false);
    })();
    this.running = run;
    try {
      return await run;
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }

  /** Follows the user to another homeserver (the next catch-up reconciles, see `reconcile`). */
  useHomeserver(client: HomeserverClient, downloads: PQueue): void {
    this.options.client = client;
    this.options.downloads = downloads;
    this.feed = new FeedReader(client, this.pubky, this.options.batchSize);
  }

  /**
   * After a move to another homeserver the cursor means nothing there: list the user's files on
   * the new homeserver, fetch what differs (conditional GETs make unchanged files cheap), then
   * continue from the new feed's head. Files missing there are kept, never deleted.
   */
  private async reconcile(report: SyncReport, signal?: AbortSignal): Promise<void> {
    const head = await this.feed.head(signal);
    await this.log(
      'homeserver-moved',
      'the homeserver changed; comparing the backup with the new homeserver',
    );
    const batchSize = this.options.batchSize ?? 1000;
    let events: FeedEvent[] = [];
    for await (const path of this.options.client.list(this.pubky, '/pub/', { signal })) {
      events.push({ type: 'PUT', uri: `pubky://${this.pubky}${path}`, owner: this.pubky, path });
      if (events.length >= batchSize) {
        await this.applyBatch(events, '0', report, true, signal);
        events = [];
      }
    }
    await this.applyBatch(events, head, report, true, signal);
  }

  /** Lets a paused key apply its mass delete (`resume --accept-deletes`). */
  async acceptDeletes(): Promise<boolean> {
    const paused = await acceptDeletes(this.layout);
    if (paused) await this.log('resumed', `mass delete of ${paused.deletes} files accepted by the user`);
    return paused !== undefined;
  }

  private async runCatchUp(signal: AbortSignal | undefined, reconcile: boolean): Promise<SyncReport> {
    const report = emptyReport(this.pubky, this.cursorValue);
    const paused = await readPaused(this.layout);
    if (paused && !paused.accepted) {
      report.paused = true;
      this.setStatus({
        state: 'paused',
        reason: pausedReason(paused),
        deletes: paused.deletes,
        files: paused.files,
      });
      return this.finish(report);
    }
    this.progress = { done: 0, total: 0, bytes: 0 };
    this.setStatus({ state: 'syncing', ...this.progress });
    try {
      if (reconcile) await this.reconcile(report, signal);
      for (;;) {
        const batch = await this.feed.next(this.cursorValue, signal);
        if (batch.events.length === 0 && batch.cursor === this.cursorValue) break;
        const outcome = await this.applyBatch(
          batch.events,
          batch.cursor,
          report,
          paused?.accepted ?? false,
          signal,
        );
        if (outcome === 'paused') break;
        if (batch.complete) break;
      }
      if (paused?.accepted && !report.paused) await clearPaused(this.layout);
      if (!report.paused) await this.retryDue(report, signal);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.setStatus({ state: 'error', code: errorCode(error), message, recoverable: true });
      await this.log('sync-error', message);
      throw error;
    }
    return this.finish(report);
  }

  private finish(report: SyncReport): SyncReport {
    report.cursor = this.cursorValue;
    report.pendingRetries = this.retry.size;
    if (!report.paused) {
      this.setStatus({
        state: 'idle',
        lastSync: new Date(this.now()).toISOString(),
        failed: this.retry.size,
      });
    }
    return report;
  }

  private async applyBatch(
    events: Parameters<typeof planBatch>[1],
    cursor: string,
    report: SyncReport,
    deletesAccepted: boolean,
    signal?: AbortSignal,
  ): Promise<'applied' | 'paused'> {
    const plan = planBatch(this.pubky, events);
    for (const ignored of plan.ignored) {
      report.ignored++;
      await this.log('ignored-event', `ignored ${ignored.uri}: ${ignored.message}`, {
        reason: ignored.reason,
      });
    }
    const deletes = plan.changes.filter((c) => c.type === 'DEL' && this.index.get(c.path)).length;
    if (!deletesAccepted && isMassDelete(deletes, this.index.size)) {
      const paused: PausedState = {
        reason: 'mass-delete',
        cursor: this.cursorValue,
        deletes,
        files: this.index.size,
        accepted: false,
      };
      await writePaused(this.layout, paused);
      await this.log('paused', pausedReason(paused));
      report.paused = true;
      this.setStatus({ state: 'paused', reason: pausedReason(paused), deletes, files: this.index.size });
      return 'paused';
    }
    // Snapshots freeze the file list under this lock: a batch is never half in a snapshot.
    const release = await acquireWriteLock(this.layout.stateDir, { signal });
    try {
      await this.writeBatch(plan.changes, cursor, report, signal);
    } finally {
      await release();
    }
    return 'applied';
  }

  private async writeBatch(
    changes: PlannedChange[],
    cursor: string,
    report: SyncReport,
    signal?: AbortSignal,
  ) {
    const progress = this.progress;
    progress.total += changes.length;
    await Promise.all(
      changes.map(async (change) => {
        if (change.type === 'DEL') await this.applyDelete(change, report);
        else await this.options.downloads.add(() => this.applyPut(change, cursor, report, signal));
        progress.done++;
        progress.bytes = report.bytes;
        this.emit('progress', { ...progress });
      }),
    );
    // Durable in this order: files (committed above, their folders now), index, retry queue, cursor.
    await this.options.store.flush();
    await this.index.flush();
    await this.retry.save();
    await writeCursor(this.layout.cursorFile, cursor);
    this.cursorValue = cursor;
  }

  private async applyPut(change: PlannedChange, cursor: string, report: SyncReport, signal?: AbortSignal) {
    const known = this.index.get(change.path);
    try {
      const result = await downloadFile(
        this.options.client,
        this.options.store,
        {
          user: this.pubky,
          path: change.path,
          storePath: change.storePath,
          contentHash: change.contentHash,
          known,
        },
        signal,
      );
      this.index.set({
        path: change.path,
        size: result.kind === 'stored' ? result.size : (known?.size ?? 0),
        blake3: result.blake3,
        etag: result.etag,
        cursor,
      });
      if (result.kind === 'stored') {
        report.stored++;
        report.bytes += result.size;
      } else {
        report.unchanged++;
      }
      this.retry.remove(change.path);
    } catch (error) {
      if (signal?.aborted) throw error;
      await this.recordFailure(change.path, error, change.contentHash, report);
    }
  }

  private async applyDelete(change: PlannedChange, report: SyncReport) {
    this.retry.remove(change.path);
    if (!this.index.get(change.path) && !(await this.options.store.stat(change.storePath))) return;
    const version = await this.options.store.remove(change.storePath);
    this.index.delete(change.path);
    report.deleted++;
    await this.log('file-deleted', `${change.path} deleted on the homeserver; previous version kept`, {
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
    const previous = this.retry.get(path);
    const attempts = (previous?.attempts ?? 0) + 1;
    const missing = error instanceof HomeserverError && error.kind === 'not-found';
    let delay = nextAttemptDelayMs(attempts);
    if (error instanceof HomeserverError && error.retryAfterMs !== undefined)
      delay = Math.max(delay, error.retryAfterMs);
    const message = error instanceof Error ? error.message : String(error);
    this.retry.upsert({
      path,
      attempts,
      nextAttemptAtMs: this.now() + delay,
      lastError: message,
      contentHash,
      missing,
    });
    report.failed++;
    const type =
      error instanceof IntegrityError ? 'integrity-error' : missing ? 'file-missing' : 'file-failed';
    await this.log(type, `${path}: ${message}`, { attempts });
  }

  private async retryDue(report: SyncReport, signal?: AbortSignal) {
    const due = this.retry.due(this.now());
    if (due.length === 0) return;
    const release = await acquireWriteLock(this.layout.stateDir, { signal });
    try {
      await this.retryItems(due, report, signal);
    } finally {
      await release();
    }
  }

  private async retryItems(due: RetryItem[], report: SyncReport, signal?: AbortSignal) {
    await Promise.all(
      due.map((item) =>
        this.options.downloads.add(async () => {
          const safe = planBatch(this.pubky, [
            { type: 'PUT', uri: `pubky://${this.pubky}${item.path}`, path: item.path },
          ]);
          const change = safe.changes[0];
          if (!change) return this.retry.remove(item.path);
          const failedBefore = report.failed;
          await this.applyPut({ ...change, contentHash: undefined }, this.cursorValue, report, signal);
          if (report.failed === failedBefore)
            await this.log(
              'retry-succeeded',
              `${item.path} downloaded after ${item.attempts} failed attempts`,
            );
        }),
      ),
    );
    await this.options.store.flush();
    await this.index.flush();
    await this.retry.save();
  }

  private setStatus(status: SyncStatus) {
    this.status = status;
    this.emit('status', status);
  }

  private log(type: string, message: string, extra: Record<string, unknown> = {}) {
    return appendActivity(this.layout.activityLog, { type, message, ...extra });
  }
}

function errorCode(error: unknown): string {
  if (error instanceof HomeserverError) return `HOMESERVER_${error.kind.toUpperCase().replace('-', '_')}`;
  return 'SYNC_FAILED';
}
