import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import type PQueue from 'p-queue';
import {
  compareCursors,
  type FeedEvent,
  type HomeserverClient,
  HomeserverError,
  isEventId,
  type SkippedEntry,
} from '../homeserver/index.js';
import {
  acceptDeletes,
  appendActivity,
  type BackupStore,
  type CursorAnchor,
  clearPaused,
  compareWithIndex,
  FileIndex,
  KeyLayout,
  type LastRun,
  RetryQueue,
  readAnchor,
  readCursorState,
  readPaused,
  writeLastRun,
} from '../store/index.js';
import { type EventBatch, FeedReader } from './feed.js';
import { BatchAborted, isDiskFull, KeyWriter } from './key-writer.js';
import { pausedReason } from './pause.js';
import { isUnreachable } from './retry-policy.js';
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
  /** A catch-up finished (not emitted for failed ones: see `status`). */
  report: [SyncReport];
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
  private progress = { done: 0, total: 0, bytes: 0, base: 0, baseTotal: 0 };
  /** Until the first catch-up has checked that the feed still holds the cursor's history. */
  private continuityChecked = false;
  /** The last `last-run.json` this process wrote: when, and whether it was a quiet "ok". */
  private lastRunWritten: { at: number; quiet: boolean } | undefined;
  /** When the files on disk were last compared with the index (ms; 0 = not yet in this process). */
  private localScanAt = 0;
  private currentReport: SyncReport | undefined;

  private readonly writer: KeyWriter;

  private constructor(
    private readonly options: KeySyncOptions,
    readonly layout: KeyLayout,
    private readonly index: FileIndex,
    versionsIndex: FileIndex,
    private readonly retry: RetryQueue,
    cursor: string,
    anchor: CursorAnchor | undefined,
    /** Why the cursor file could not be used (logged by the first catch-up). */
    private cursorProblem: string | undefined,
  ) {
    super();
    this.feed = this.newFeed(options.client);
    this.now = options.now ?? Date.now;
    this.writer = new KeyWriter(
      {
        pubky: options.pubky,
        layout,
        store: options.store,
        index,
        versionsIndex,
        retry,
        client: () => this.options.client,
        downloads: () => this.options.downloads,
        now: () => this.now(),
        log: (type, message, extra) => this.log(type, message, extra),
        onChange: (done, total, bytes) => this.emit('progress', this.addProgress(done, total, bytes)),
        onPaused: (paused) =>
          this.setStatus({
            state: 'paused',
            reason: pausedReason(paused),
            deletes: paused.deletes,
            files: paused.files,
          }),
      },
      cursor,
      anchor,
    );
  }

  /** Run-wide progress from a batch's: the earlier batches' counts plus this one's. */
  private addProgress(done: number, total: number, bytes: number) {
    const p = this.progress;
    if (done === 1) {
      p.base = p.done;
      p.baseTotal = p.total;
    }
    p.done = p.base + done;
    p.total = Math.max(p.total, p.baseTotal + total);
    p.bytes = bytes;
    return { done: p.done, total: p.total, bytes };
  }

  private get cursorValue(): string {
    return this.writer.cursor;
  }

  private set cursorValue(cursor: string) {
    this.writer.cursor = cursor;
  }

  static async open(options: KeySyncOptions): Promise<KeySync> {
    const layout = new KeyLayout(options.dataDir, options.pubky);
    await mkdir(layout.stateDir, { recursive: true });
    await options.store.cleanTemp();
    const [index, versionsIndex, retry, cursor, anchor] = await Promise.all([
      FileIndex.open(layout.indexFile),
      FileIndex.open(layout.versionsIndexFile),
      RetryQueue.open(layout.retryFile),
      readCursorState(layout.cursorFile),
      readAnchor(layout.anchorFile),
    ]);
    return new KeySync(options, layout, index, versionsIndex, retry, cursor.cursor, anchor, cursor.problem);
  }

  private newFeed(client: HomeserverClient): FeedReader {
    return new FeedReader(client, this.options.pubky, this.options.batchSize, (error, waitMs) =>
      this.log('feed-retry', `${error.message}; trying again in ${(waitMs / 1000).toFixed(1)} s`),
    );
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

  /** Resolves when no catch-up is running (after the current one, failed or not). */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => {});
  }

  /** Follows the user to another homeserver (the next catch-up reconciles, see `reconcile`). */
  useHomeserver(client: HomeserverClient, downloads: PQueue): void {
    this.options.client = client;
    this.options.downloads = downloads;
    this.feed = this.newFeed(client);
  }

  /**
   * When the cursor means nothing on the homeserver — the user moved to another one, or the feed was
   * reset below the cursor — list the user's files there, fetch what differs (conditional GETs make
   * unchanged files cheap), then continue from the feed's head. Files missing there are kept, never
   * deleted, and counted in the activity log.
   */
  private async reconcile(report: SyncReport, why: string, signal?: AbortSignal): Promise<void> {
    const head = (await this.feed.head(signal)) ?? '0';
    await this.log('reconcile', `${why}; comparing the backup with a listing of the homeserver`);
    const batchSize = this.options.batchSize ?? 1000;
    const listed = new Set<string>();
    let events: FeedEvent[] = [];
    const listing = this.options.client.list(this.pubky, '/pub/', {
      signal,
      onSkipped: (entry) => {
        report.skipped++;
        void this.log('listing-line-skipped', `${entry.reason}: ${entry.text}`);
      },
    });
    for await (const path of listing) {
      listed.add(path);
      events.push({ type: 'PUT', uri: `pubky://${this.pubky}${path}`, owner: this.pubky, path });
      if (events.length >= batchSize) {
        // A crash here continues from the beginning of the feed: slower, never wrong.
        await this.writer.applyBatch(events, '0', report, { deletesAccepted: true, signal });
        events = [];
      }
    }
    await this.writer.applyBatch(events, head, report, { deletesAccepted: true, signal });
    const kept = [...this.index.entries()].filter((entry) => !listed.has(entry.path)).length;
    await this.log(
      'reconciled',
      `the backup follows the homeserver's feed from cursor ${head}` +
        (kept > 0 ? `; ${kept} files of the backup are not on the homeserver and were kept` : ''),
    );
  }

  /**
   * Compares the files on disk with the index (size and mtime; files that changed are hashed).
   * A damaged or missing file is queued to be fetched again now, through the retry queue (the
   * damaged copy is kept in `versions/` when it is replaced); a file only touched gets its new
   * mtime. Runs at the first catch-up of a process and then daily.
   */
  private async scanLocal(signal?: AbortSignal): Promise<void> {
    this.localScanAt = this.now();
    for await (const finding of compareWithIndex(this.options.store, this.index, { signal })) {
      const entry = this.index.get(finding.path);
      if (finding.problem === 'touched' && entry) {
        this.index.set({ ...entry, mtimeMs: finding.mtimeMs });
        continue;
      }
      const what =
        finding.problem === 'missing'
          ? 'is missing from the backup on this disk'
          : 'was changed or damaged on this disk';
      this.retry.upsert({
        path: finding.path,
        attempts: 0,
        nextAttemptAtMs: this.now(),
        lastError: `the file ${what}`,
      });
      await this.log(
        'local-damage',
        `${finding.path} ${what} (${finding.detail}); fetching it again from the homeserver`,
      );
    }
  }

  /** Checks that the feed still holds the history the cursor stands on; reconciles when it does not. */
  private async ensureContinuity(report: SyncReport, signal?: AbortSignal): Promise<void> {
    this.continuityChecked = true;
    const continuity = await this.feed.continuity(this.cursorValue, this.writer.currentAnchor, signal);
    if (continuity.ok) return;
    report.feedReset = true;
    await this.log(
      'feed-reset',
      `the homeserver's events feed no longer holds the backup's history (${continuity.reason}): it was reset or restored`,
    );
    await this.reconcile(report, "the homeserver's feed was reset", signal);
  }

  /** Lets a paused key apply its mass delete (`resume --accept-deletes`). */
  async acceptDeletes(): Promise<boolean> {
    const paused = await acceptDeletes(this.layout);
    if (paused) await this.log('resumed', `mass delete of ${paused.deletes} files accepted by the user`);
    return paused !== undefined;
  }

  /** The counters of the current (or last) catch-up, also when it was interrupted. */
  get runReport(): SyncReport | undefined {
    return this.currentReport;
  }

  /** Changes of the current run done and known so far (they grow batch by batch). */
  get runProgress(): { done: number; total: number } {
    return { done: this.progress.done, total: this.progress.total };
  }

  private async runCatchUp(signal: AbortSignal | undefined, reconcile: boolean): Promise<SyncReport> {
    const report = emptyReport(this.pubky, this.cursorValue);
    this.currentReport = report;
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
    this.progress = { done: 0, total: 0, bytes: 0, base: 0, baseTotal: 0 };
    this.setStatus({ state: 'syncing', done: 0, total: 0, bytes: 0 });
    try {
      if (this.cursorProblem) {
        await this.log('cursor-unreadable', this.cursorProblem);
        this.cursorProblem = undefined;
      }
      if (this.now() - this.localScanAt >= LOCAL_SCAN_INTERVAL_MS) await this.scanLocal(signal);
      if (reconcile) {
        await this.reconcile(report, 'the user moved to another homeserver', signal);
        this.continuityChecked = true;
      } else if (!this.continuityChecked) {
        await this.ensureContinuity(report, signal);
      }
      const { seen, anchorSeen } = await this.followFeed(report, paused?.accepted ?? false, signal);
      // Nothing new: cheap moment to notice a feed that restarted below the cursor — unless the
      // replayed window already showed the event the cursor stands on, unchanged (no extra request).
      if (!seen && !anchorSeen && !report.feedReset && !report.waiting && !report.paused) {
        await this.ensureContinuity(report, signal);
      }
      if (paused?.accepted && !report.paused) await clearPaused(this.layout);
      if (!report.paused) await this.writer.retryDue(report, signal);
    } catch (caught) {
      if (signal?.aborted) {
        // Stopped by the user or a shutdown: not a failure of the backup.
        await this.log(
          'interrupted',
          `stopped after ${report.stored} downloads; the next run continues from cursor ${this.cursorValue}`,
        );
        this.setStatus({
          state: 'idle',
          lastSync: new Date(this.now()).toISOString(),
          failed: this.retry.size,
        });
        throw caught;
      }
      const error =
        isDiskFull(caught) && !(caught instanceof BatchAborted)
          ? new BatchAborted(
              'DISK_FULL',
              `The disk of the backup is full (${this.layout.keyDir}): free some space; the backup continues where it stopped, nothing was lost.`,
              { cause: caught },
            )
          : caught;
      const message = error instanceof Error ? error.message : String(error);
      const code = errorCode(error);
      this.setStatus({ state: 'error', code, message, recoverable: true });
      await this.log('sync-error', message, { code });
      await this.recordRun('error', report, { code, message }).catch(() => {});
      throw Object.assign(error as Error, { code });
    }
    return this.finish(report);
  }

  /**
   * Reads the feed from the cursor to its head, batch by batch, applying each. The first read of a
   * run starts a little below the cursor (`replayWindowStart`): homeservers v0.6/v0.7 can commit
   * events out of id order, and a late one would otherwise be missed for good; replays that would
   * change nothing are dropped. A cursor the homeserver refuses (400 "Invalid cursor": an old
   * timestamp cursor it cannot map) starts the backup over from the beginning, logged. Returns
   * whether any new entry was seen, and whether the feed showed the entry the cursor stands on
   * (the anchor) unchanged — proof that the feed still holds the backup's history.
   */
  private async followFeed(
    report: SyncReport,
    deletesAccepted: boolean,
    signal?: AbortSignal,
  ): Promise<{ seen: boolean; anchorSeen: boolean }> {
    let seen = false;
    let anchorSeen = false;
    const standsOn = this.writer.currentAnchor;
    let from = this.feed.legacy ? this.cursorValue : replayWindowStart(this.cursorValue);
    for (;;) {
      let batch: EventBatch;
      try {
        batch = await this.feed.next(from, signal);
      } catch (error) {
        if (!isRejectedCursor(error) || from === '0') throw error;
        await this.log(
          'cursor-rejected',
          `the homeserver does not accept the backup's cursor ${from} (${(error as Error).message}); ` +
            'backing up again from the beginning of its feed — files already in the backup are compared, not downloaded again',
        );
        from = '0';
        this.cursorValue = '0';
        continue;
      }
      await this.logSkipped(batch.skipped, report);
      if (batch.waiting) {
        report.waiting = true;
        return { seen, anchorSeen };
      }
      if (standsOn && standsOn.cursor === this.cursorValue) {
        anchorSeen ||= batch.events.some(
          (e) => e.cursor === standsOn.cursor && e.type === standsOn.type && e.uri === standsOn.uri,
        );
      }
      const { events, fresh } = this.dropNoOpReplays(batch.events);
      if (fresh || batch.skipped.length > 0) seen = true;
      const cursor = newest(this.cursorValue, batch.cursor);
      const anchor = cursor === batch.cursor ? batch.anchor : this.writer.currentAnchor;
      if (events.length > 0 || cursor !== this.cursorValue) {
        const outcome = await this.writer.applyBatch(events, cursor, report, {
          deletesAccepted,
          signal,
          anchor,
        });
        if (outcome === 'paused') return { seen, anchorSeen };
      }
      if (batch.complete) return { seen, anchorSeen };
      from = batch.cursor;
    }
  }

  /**
   * Splits a batch's replays (cursor at or below ours) from new events, and drops the replays the
   * backup already reflects. Per path only the last replayed event counts (a PUT then a DEL is a
   * DEL). It is applied only when it is newer than what the index records for the path (each
   * entry keeps the cursor of the event that brought it): a change the homeserver committed late.
   * So a restored version or a deleted file is never undone by a replay, and a failing file is left
   * to its retry schedule.
   */
  private dropNoOpReplays(events: FeedEvent[]): { events: FeedEvent[]; fresh: boolean } {
    let fresh = false;
    const lastReplay = new Map<string, FeedEvent>();
    for (const event of events) {
      const order = event.cursor === undefined ? undefined : compareCursors(event.cursor, this.cursorValue);
      if (order === undefined || order > 0) fresh = true;
      else {
        const seen = lastReplay.get(event.path);
        if (!seen || (compareCursors(event.cursor as string, seen.cursor as string) ?? 1) >= 0) {
          lastReplay.set(event.path, event);
        }
      }
    }
    const kept = new Set<FeedEvent>();
    for (const [path, event] of lastReplay) if (this.missedReplay(path, event)) kept.add(event);
    return {
      events: events.filter(
        (event) => !lastReplay.has(event.path) || kept.has(event) || isNewer(event, this.cursorValue),
      ),
      fresh,
    };
  }

  /** Whether a replayed event is one the backup never applied. */
  private missedReplay(path: string, event: FeedEvent): boolean {
    if (this.retry.get(path)) return false;
    const known = this.index.get(path);
    const newerThanKnown = !known || (compareCursors(event.cursor as string, known.cursor) ?? 1) > 0;
    if (event.type === 'DEL') return known !== undefined && newerThanKnown;
    if (!known) return true;
    if (!newerThanKnown) return false;
    return event.contentHash === undefined || known.blake3 !== event.contentHash;
  }

  private async recordRun(
    outcome: LastRun['outcome'],
    report: SyncReport,
    error?: { code: string; message: string },
  ): Promise<void> {
    // A quiet poll that ends like the last one is not worth a file write each time (100 keys
    // polled every 30 s); the record is refreshed every few minutes, and at once on any change.
    const quiet = outcome === 'ok' && !error && report.skipped === 0;
    const now = this.now();
    if (quiet && this.lastRunWritten?.quiet && now - this.lastRunWritten.at < LAST_RUN_REFRESH_MS) return;
    this.lastRunWritten = { at: now, quiet };
    await writeLastRun(this.layout.lastRunFile, {
      finishedAt: new Date(this.now()).toISOString(),
      outcome,
      skipped: report.skipped,
      ...(error && { error }),
    });
  }

  private async finish(report: SyncReport): Promise<SyncReport> {
    report.cursor = this.cursorValue;
    report.pendingRetries = this.retry.size;
    await this.recordRun(report.waiting ? 'waiting' : report.paused ? 'paused' : 'ok', report);
    // Runs that changed something are the activity a person looks for; quiet polls are not logged.
    if (report.stored + report.deleted + report.failed + report.repaired > 0) {
      await this.log(
        'synced',
        `${report.stored} stored, ${report.deleted} deleted${report.failed ? `, ${report.failed} failed` : ''}` +
          `${report.repaired ? `, ${report.repaired} repaired` : ''} (cursor ${report.cursor})`,
        { stored: report.stored, deleted: report.deleted, failed: report.failed, bytes: report.bytes },
      );
    }
    this.emit('report', report);
    if (report.waiting) {
      this.setStatus({ state: 'waiting', reason: WAITING_REASON });
    } else if (!report.paused) {
      this.setStatus({
        state: 'idle',
        lastSync: new Date(this.now()).toISOString(),
        failed: this.retry.size,
      });
    }
    return report;
  }

  /** Feed entries that could not be read: each reported (the first few in full), never fatal. */
  private async logSkipped(skipped: SkippedEntry[], report: SyncReport): Promise<void> {
    for (const entry of skipped) {
      report.skipped++;
      if (report.skipped <= MAX_SKIPPED_LOGGED) {
        await this.log(
          'feed-entry-skipped',
          `skipped an entry of the homeserver's feed (${entry.reason}): ${entry.text}`,
        );
      } else if (report.skipped === MAX_SKIPPED_LOGGED + 1) {
        await this.log(
          'feed-entry-skipped',
          'more unreadable feed entries skipped; see the run report for the count',
        );
      }
    }
  }

  /** Puts a previous version of `path` back (the version current at `at`, or the newest). */
  restoreVersion(path: string, at?: Date) {
    return this.writer.restoreVersion(path, at);
  }

  /** Deletes versions older than `keepDays` (the running sync's daily retention). */
  pruneVersions(keepDays: number): Promise<number> {
    return this.writer.pruneVersions(keepDays);
  }

  /** Fetches these files again from the homeserver now (`check --repair`); see `KeyWriter.repair`. */
  async repair(paths: readonly string[], signal?: AbortSignal): Promise<SyncReport> {
    const report = emptyReport(this.pubky, this.cursorValue);
    await this.writer.repair(paths, report, signal);
    report.pendingRetries = this.retry.size;
    return report;
  }

  private setStatus(status: SyncStatus) {
    this.status = status;
    this.emit('status', status);
  }

  private log(type: string, message: string, extra: Record<string, unknown> = {}) {
    return appendActivity(this.layout.activityLog, { type, message, ...extra });
  }
}

const MAX_SKIPPED_LOGGED = 10;

/** How often a running sync compares the files on disk with the index. */
const LOCAL_SCAN_INTERVAL_MS = 24 * 3_600_000;

/** How far below the cursor each run reads again (event ids; see `followFeed`). */
export const REPLAY_WINDOW_IDS = 100n;

/** How stale `state/last-run.json` may get while poll after poll ends the same quiet way. */
const LAST_RUN_REFRESH_MS = 5 * 60_000;

function replayWindowStart(cursor: string): string {
  if (!isEventId(cursor)) return cursor;
  const start = BigInt(cursor) - REPLAY_WINDOW_IDS;
  return start > 0n ? start.toString() : '0';
}

/** An event after the cursor (or one without a cursor, which cannot be a replay). */
function isNewer(event: FeedEvent, cursor: string): boolean {
  return event.cursor === undefined || (compareCursors(event.cursor, cursor) ?? 1) > 0;
}

/** The later of two cursors (the first when they cannot be compared). */
function newest(current: string, candidate: string): string {
  const order = compareCursors(candidate, current);
  return order === undefined || order > 0 ? candidate : current;
}

/** 400 about the cursor: the homeserver cannot read or map the cursor it was given. */
function isRejectedCursor(error: unknown): boolean {
  return (
    error instanceof HomeserverError &&
    error.status === 400 &&
    /cursor/i.test(`${error.body ?? ''} ${error.message}`)
  );
}

/** The one wording of the "waiting" state, wherever it is shown. */
export const WAITING_REASON = 'the homeserver does not know this pubky yet; the backup starts when it does';

function errorCode(error: unknown): string {
  if (error instanceof BatchAborted) return error.code;
  if (error instanceof HomeserverError) {
    if (error.feedStalled) return 'FEED_STALLED';
    if (isUnreachable(error)) return 'HOMESERVER_UNREACHABLE';
    return `HOMESERVER_${error.kind.toUpperCase().replace('-', '_')}`;
  }
  return 'SYNC_FAILED';
}
