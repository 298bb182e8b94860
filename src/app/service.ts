import { rm } from 'node:fs/promises';
import { type Config, configPath, loadConfig, saveConfig, withField } from '../config/index.js';
import { BackupError } from '../errors.js';
import { parsePubky } from '../identity/index.js';
import type { MigrateResult, RestoreProgress, RestoreSummary } from '../restore/index.js';
import { snapshotKey } from '../snapshot/index.js';
import {
  type BackupLocation,
  backupLocation,
  finishBackupMove,
  type MovedBackup,
  type MoveProgress,
  moveBackup,
} from '../store/backup-location.js';
import {
  acceptDeletes,
  appendActivity,
  BackupStore,
  clearPaused,
  KeyLayout,
  markInactive,
  readCursor,
  readPaused,
  rebuildIndex,
  writePaused,
} from '../store/index.js';
import { SyncManager, type SyncReport, type SyncStatus } from '../sync/index.js';
import { acquireInstanceLock, type InstanceLock } from '../util/instance-lock.js';
import { checkBackup, type LocalCheckReport } from '../verify/index.js';
import { type FileVersion, listVersions, type RestoredVersion, restoreVersion } from '../versions/index.js';
import { type AddedKey, addKey } from './add-key.js';
import {
  type ExitContext,
  type ExitOptions,
  migrateKey,
  restoreKey,
  type VerifyOutcome,
  verifyKey,
} from './credible-exit.js';
import { EventLog } from './event-log.js';
import { type KeySummary, summarizeKey } from './key-summary.js';
import { activeKeys, requireAddedKey, selectKeys } from './keys.js';
import { runMaintenance } from './maintenance.js';
import { locateHomeserver, openResolver, type PkdnsFlags } from './pkdns.js';
import { WorkGate } from './work-gate.js';

export interface ServiceOptions {
  dataDir: string;
  pkdns: PkdnsFlags;
  /** What holds the data folder, for the "already running" message (`daemon`, `sync --once`…). */
  command: string;
  /** The tool's name and version, recorded in snapshots. */
  tool: string;
}

/**
 * One pubky's outcome of a sync: its report, or why it failed — with what the interrupted or failed
 * run did get done (`stored`, `cursor`, `progress`: changes done of those known so far).
 */
export type SyncOutcome =
  | SyncReport
  | {
      pubky: string;
      error: BackupError;
      stored?: number;
      cursor?: string;
      progress?: { done: number; total: number };
    };

/**
 * The application layer (restic's thin commands over one core): every use-case of Pubky Backup,
 * for every face — the CLI, the daemon's control API, the dashboard and the tray call only this.
 * It holds the data folder's instance lock for its whole life, owns the config, the PKDNS
 * resolver, the `SyncManager` (keys added and removed at run time), the schedules (snapshots,
 * versions retention, leftovers) and the event log.
 */
export class BackupService {
  readonly events = new EventLog();
  private manager: SyncManager | undefined;
  private pkdns: Awaited<ReturnType<typeof openResolver>> | undefined;
  private running: { stop: AbortController; done: Promise<void> } | undefined;
  private lastProgress = new Map<string, number>();
  /** Every operation that touches the backup runs through it; moving the backup runs alone. */
  private readonly gate = new WorkGate();
  /** Pubkys being migrated: not synced meanwhile, and never two migrates of one pubky at once. */
  private readonly migrating = new Set<string>();

  private constructor(
    readonly options: ServiceOptions,
    private config: Config,
    private readonly lock: InstanceLock,
  ) {}

  /**
   * Opens the service on a data folder: takes its instance lock (`ALREADY_RUNNING` when another
   * process holds it) and reads the config (`CONFIG_INVALID` naming the file and field).
   */
  static async open(options: ServiceOptions): Promise<BackupService> {
    const lock = await acquireInstanceLock(options.dataDir, options.command);
    try {
      // A move of the backup that a crash interrupted is finished (or undone) before anything reads it.
      await finishBackupMove(options.dataDir);
      const config = await loadConfig(options.dataDir);
      return new BackupService(options, config, lock);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  get settings(): Config {
    return this.config;
  }

  /** Every key with its state from disk, and the live state of the keys the service follows. */
  async list(activity = 0): Promise<Array<KeySummary & { live: SyncStatus | null }>> {
    const { listKeys } = await import('../store/index.js');
    const pubkys = await listKeys(this.dataDir);
    return Promise.all(pubkys.map((pubky) => this.summary(pubky, activity)));
  }

  /** One key's summary (`KEY_NOT_ADDED` when it is not backed up here). */
  async status(text: string, activity = 5): Promise<KeySummary & { live: SyncStatus | null }> {
    return this.summary(requireAddedKey(this.dataDir, text).z32, activity);
  }

  private async summary(pubky: string, activity: number) {
    const summary = await summarizeKey(this.dataDir, pubky, activity);
    const key = this.manager?.key(pubky);
    const broken = this.manager?.brokenKeys.get(pubky);
    const live: SyncStatus | null = key
      ? key.status
      : broken
        ? { state: 'error', code: codeOf(broken), message: broken.message, recoverable: true }
        : null;
    return { ...summary, live };
  }

  /**
   * Adds a pubky (validated; its homeserver found through PKDNS, or pinned: an http(s) address or a
   * homeserver pubky) and, when the service is running, starts following it at once.
   */
  async add(text: string, options: { homeserver?: string } = {}): Promise<AddedKey> {
    return this.gate.shared(async () => {
      const added = await addKey(this.dataDir, text, () => this.resolver(), options.homeserver);
      this.events.publish('KeyAdded', { pubky: added.pubky, homeserver: added.homeserver });
      if (this.manager) await this.manager.add(added.pubky).catch(() => {}); // a broken start shows in status
      return added;
    });
  }

  /**
   * Stops backing up a pubky: its current catch-up is stopped and awaited first, then the folder is
   * marked inactive (data kept) or deleted for good with `deleteData`.
   */
  async remove(
    text: string,
    options: { deleteData?: boolean } = {},
  ): Promise<{ pubky: string; folder: string; dataDeleted: boolean }> {
    return this.gate.shared(async () => {
      const layout = requireAddedKey(this.dataDir, text);
      await this.manager?.remove(layout.z32);
      if (options.deleteData) await rm(layout.keyDir, { recursive: true, force: true });
      else await markInactive(layout);
      this.events.publish('KeyRemoved', { pubky: layout.z32, dataDeleted: options.deleteData === true });
      return { pubky: layout.z32, folder: layout.keyDir, dataDeleted: options.deleteData === true };
    });
  }

  /** Pauses a pubky (no sync until resumed); a catch-up in progress stops at once, keeping its work. */
  async pause(text: string): Promise<{ pubky: string }> {
    return this.gate.shared(async () => {
      const layout = requireAddedKey(this.dataDir, text);
      const current = await readPaused(layout);
      if (!current || current.accepted) {
        await writePaused(layout, {
          reason: 'user',
          cursor: await readCursor(layout.cursorFile),
          deletes: 0,
          files: 0,
          accepted: false,
        });
      }
      await this.manager?.interrupt(layout.z32);
      await appendActivity(layout.activityLog, { type: 'paused', message: 'paused by the user' });
      this.events.publish('StateChanged', { pubky: layout.z32, state: 'paused', reason: 'user' });
      return { pubky: layout.z32 };
    });
  }

  /**
   * Resumes a paused pubky. A pause of the mass-delete guard needs `acceptDeletes` (the deletes are
   * then applied); `NOT_PAUSED` (conflict) when there is nothing to resume.
   */
  async resume(
    text: string,
    options: { acceptDeletes?: boolean } = {},
  ): Promise<{ pubky: string; deletesAccepted: number }> {
    return this.gate.shared(async () => {
      const layout = requireAddedKey(this.dataDir, text);
      const paused = await readPaused(layout);
      if (!paused || paused.accepted)
        throw new BackupError('NOT_PAUSED', `${layout.z32} is not paused.`, 'conflict');
      let deletesAccepted = 0;
      if (paused.reason === 'user') await clearPaused(layout);
      else if (options.acceptDeletes) deletesAccepted = (await acceptDeletes(layout))?.deletes ?? 0;
      else {
        throw new BackupError(
          'DELETES_NOT_ACCEPTED',
          `${layout.z32} was paused because its homeserver deleted ${paused.deletes} of ${paused.files} files at once; resuming applies those deletes, so it must be asked for explicitly.`,
          'conflict',
          { deletes: paused.deletes, files: paused.files },
        );
      }
      await appendActivity(layout.activityLog, {
        type: 'resumed',
        message: deletesAccepted > 0 ? `resumed; ${deletesAccepted} deletes accepted` : 'resumed by the user',
      });
      this.events.publish('StateChanged', { pubky: layout.z32, state: 'resumed' });
      if (this.running) void this.syncNow([layout.z32]).catch(() => {});
      return { pubky: layout.z32, deletesAccepted };
    });
  }

  /**
   * Catches every (or the named) pubky up to the head of its feed now and retries due failures
   * ("Force sync"). Failures of one key never stop the others: each outcome is its report or its
   * error. `NO_KEYS` when nothing is backed up yet.
   */
  async syncNow(texts: readonly string[] = [], signal?: AbortSignal): Promise<SyncOutcome[]> {
    return this.gate.shared(async () => {
      const pubkys = await selectKeys(this.dataDir, texts);
      if (pubkys.length === 0)
        throw new BackupError('NO_KEYS', 'No pubkys to back up: add one first.', 'usage');
      const manager = await this.syncManager();
      const outcomes = await manager.syncOnce(signal, pubkys);
      return outcomes.map((outcome) => {
        if (!('error' in outcome)) return outcome;
        const key = manager.key(outcome.pubky);
        return {
          pubky: outcome.pubky,
          error: asBackupError(outcome.error),
          ...(key && { stored: key.runReport?.stored ?? 0, cursor: key.cursor, progress: key.runProgress }),
        };
      });
    });
  }

  /**
   * Runs until `stop`: live streams, the poll, hourly PKDNS checks, scheduled snapshots, versions
   * retention. Resolves when stopped.
   */
  async run(): Promise<void> {
    if (this.running) return this.running.done;
    const stop = new AbortController();
    const manager = await this.syncManager();
    const done = Promise.all([
      manager.run(stop.signal),
      runMaintenance({
        dataDir: this.dataDir,
        config: () => this.config,
        tool: this.options.tool,
        pubkys: () => manager.pubkys,
        pruneVersions: (pubky, keepDays) => manager.key(pubky)?.pruneVersions(keepDays) ?? Promise.resolve(0),
        signal: stop.signal,
        onSnapshot: (pubky, created) => this.events.publish('SnapshotCreated', { pubky, ...created }),
      }),
    ]).then(() => {});
    this.running = { stop, done };
    this.events.publish('Started', { pid: process.pid, version: this.options.tool });
    return done;
  }

  /**
   * Stops the service: the running sync stops (a batch being written persists what it verified
   * and releases its locks first), then the resolver closes and the instance lock is released.
   */
  async close(): Promise<void> {
    if (this.running) {
      this.events.publish('Stopping', {});
      this.running.stop.abort();
      await this.running.done.catch(() => {});
      this.running = undefined;
    }
    await this.pkdns?.close();
    await this.lock.release();
  }

  /** Snapshots every (or the named) pubky. */
  async createSnapshots(
    texts: readonly string[] = [],
    options: { signal?: AbortSignal; onWait?: (pubky: string, holder: string) => void } = {},
  ) {
    return this.gate.shared(async () => {
      const created = [];
      for (const pubky of await selectKeys(this.dataDir, texts)) {
        const snapshot = await snapshotKey(this.dataDir, pubky, {
          tool: this.options.tool,
          signal: options.signal,
          onWait: (holder) => options.onWait?.(pubky, holder),
        });
        await appendActivity(new KeyLayout(this.dataDir, pubky).activityLog, {
          type: 'snapshot',
          message: `snapshot ${snapshot.name}: ${snapshot.files} files${snapshot.damaged.length ? `, ${snapshot.damaged.length} damaged` : ''}`,
        });
        this.events.publish('SnapshotCreated', {
          pubky,
          file: snapshot.file,
          files: snapshot.files,
          bytes: snapshot.bytes,
          damaged: snapshot.damaged.length,
        });
        created.push({ pubky, ...snapshot });
      }
      return created;
    });
  }

  /**
   * `check` of every (or the named) pubky; with `repair`, damaged and missing files are fetched
   * again through the sync engine and the report is what is left afterwards.
   */
  async check(
    texts: readonly string[] = [],
    options: {
      readData?: boolean;
      repair?: boolean;
      signal?: AbortSignal;
      onProgress?: (pubky: string, done: number, total: number) => void;
    } = {},
  ): Promise<Array<LocalCheckReport & { repair?: RepairOutcome }>> {
    return this.gate.shared(async () => {
      const reports = [];
      for (const pubky of await selectKeys(this.dataDir, texts)) {
        const layout = new KeyLayout(this.dataDir, pubky);
        const store = BackupStore.openFs(layout.keyDir);
        const checkOptions = {
          readData: options.readData,
          signal: options.signal,
          onProgress: (done: number, total: number) => options.onProgress?.(pubky, done, total),
        };
        let report: LocalCheckReport & { repair?: RepairOutcome } = await checkBackup(
          store,
          layout,
          checkOptions,
        );
        const repairable = [...new Set(report.problems.filter((p) => p.repairable).map((p) => p.item))];
        if (options.repair && repairable.length > 0) {
          const manager = await this.syncManager();
          await manager.add(pubky).catch(() => {});
          const key = manager.key(pubky);
          if (!key)
            throw asBackupError(manager.brokenKeys.get(pubky) ?? new Error(`${pubky} could not start`));
          const done = await key.repair(repairable, options.signal);
          report = {
            ...(await checkBackup(store, layout, { ...checkOptions, onProgress: undefined })),
            repair: {
              fetched: done.stored,
              alreadyIntact: done.unchanged,
              movedToVersions: done.deleted,
              stillFailing: done.failed,
            },
          };
        }
        this.events.publish('CheckFinished', { pubky, problems: report.problems.length });
        reports.push(report);
      }
      return reports;
    });
  }

  /** The previous versions of a pubky's files (or of one file), oldest first. */
  async versions(text: string, path?: string): Promise<FileVersion[]> {
    const layout = requireAddedKey(this.dataDir, text);
    return listVersions(BackupStore.openFs(layout.keyDir), path);
  }

  /**
   * Puts a previous version back into the mirror (the current copy becomes a version), through
   * the key's running sync when there is one, so its index follows.
   */
  async restoreVersion(text: string, path: string, options: { at?: Date } = {}): Promise<RestoredVersion> {
    return this.gate.shared(async () => {
      const layout = requireAddedKey(this.dataDir, text);
      const key = this.manager?.key(layout.z32);
      return key
        ? key.restoreVersion(path, options.at)
        : restoreVersion(BackupStore.openFs(layout.keyDir), layout, path, options);
    });
  }

  /** Rebuilds a pubky's index from its files (differences adopted only with `accept`). */
  async reindex(text: string, options: { accept?: boolean } = {}) {
    return this.gate.shared(async () => {
      const layout = requireAddedKey(this.dataDir, text);
      if (this.manager?.key(layout.z32)) {
        throw new BackupError(
          'KEY_IN_USE',
          `${layout.z32} is being synced by this process; reindex it when it is not running.`,
          'conflict',
        );
      }
      const cursor = await readCursor(layout.cursorFile);
      const result = await rebuildIndex(BackupStore.openFs(layout.keyDir), layout.indexFile, {
        cursor,
        accept: options.accept,
      });
      let bytes = 0;
      for (const entry of result.index.entries()) bytes += entry.size;
      return { pubky: layout.z32, files: result.index.size, bytes, differences: result.differences };
    });
  }

  /** Where the key folders are (`<data dir>/keys`, or where they were moved to). */
  backupLocation(): Promise<BackupLocation> {
    return backupLocation(this.dataDir);
  }

  /**
   * Moves the backup to `target` (an empty or new folder, any disk) with progress
   * (`MoveProgress` events, at most two a second): syncing stops, operations in flight finish
   * first and new ones are refused (`BACKUP_BUSY`) until the move is done; then syncing resumes
   * from the new place. See `moveBackup` for the steps and errors.
   */
  async moveBackup(
    target: string,
    options: { signal?: AbortSignal; onProgress?: (progress: MoveProgress) => void } = {},
  ): Promise<MovedBackup> {
    return this.gate.exclusive('moving the backup', async () => {
      const wasRunning = this.running !== undefined;
      if (this.running) {
        this.running.stop.abort();
        await this.running.done.catch(() => {});
        this.running = undefined;
      }
      // Its keys hold what they read from the old place: a new manager reads the moved folders.
      this.manager = undefined;
      let last = 0;
      try {
        const moved = await moveBackup(this.dataDir, target, {
          signal: options.signal,
          onProgress: (progress) => {
            options.onProgress?.(progress);
            if (Date.now() - last < 500 && progress.files < progress.totalFiles) return;
            last = Date.now();
            this.events.publish('MoveProgress', { ...progress });
          },
        });
        this.events.publish('BackupMoved', { ...moved });
        return moved;
      } finally {
        if (wasRunning) void this.run();
      }
    });
  }

  /**
   * Changes one setting (`syncIntervalSeconds`, `snapshots.every`, …), validated like the file;
   * written atomically. Takes effect for new work (a restart applies everything at once).
   */
  async setConfig(field: string, value: unknown): Promise<Config> {
    const updated = withField(configPath(this.dataDir), this.config, field, value);
    await saveConfig(this.dataDir, updated);
    const before = this.config;
    this.config = updated;
    this.manager?.applyConfig(updated);
    // A shorter versions retention prunes now, not at tomorrow's round.
    if (
      this.manager &&
      updated.versions.keepDays !== before.versions.keepDays &&
      updated.versions.keepDays > 0
    ) {
      for (const pubky of this.manager.pubkys)
        void this.manager
          .key(pubky)
          ?.pruneVersions(updated.versions.keepDays)
          .catch(() => {});
    }
    this.events.publish('ConfigChanged', { field, value });
    return updated;
  }

  /**
   * Compares a pubky's backup with its homeserver now (`verifyKey`) and keeps the report;
   * publishes `VerifyFinished`. Reads only, so it runs beside syncing.
   */
  async verify(
    text: string,
    options: { readData?: boolean; signal?: AbortSignal } = {},
  ): Promise<VerifyOutcome> {
    return this.gate.shared(async () => {
      const outcome = await verifyKey(this.exitContext(), text, options);
      const c = outcome.counts;
      await appendActivity(new KeyLayout(this.dataDir, outcome.pubky).activityLog, {
        type: 'verified',
        message:
          outcome.outcome === 'identical'
            ? `verified against ${outcome.homeserver}: identical (${c.identical} files)`
            : `verified against ${outcome.homeserver}: ${c.missing} missing, ${c.changed} changed, ${c.notBackedUp} not backed up, ${c.unverifiable} unverifiable`,
      });
      this.events.publish('VerifyFinished', {
        pubky: outcome.pubky,
        outcome: outcome.outcome,
        counts: outcome.counts,
        report: outcome.report,
      });
      return outcome;
    });
  }

  /**
   * Uploads a backup into the pubky's account on a homeserver (`restoreKey`); publishes
   * `RestoreProgress` (at most 2 per second) and `RestoreFinished`. The pubky need not be backed
   * up here when `from` is a snapshot .zip or a folder.
   */
  async restore(text: string, options: ExitOptions & { deleteExtra?: boolean }): Promise<RestoreSummary> {
    return this.gate.shared(async () => {
      const pubky = parsePubky(text).z32;
      const summary = await restoreKey(this.exitContext(), pubky, {
        ...options,
        onProgress: this.uploadProgress(pubky, options.onProgress),
      });
      if (!summary.dryRun) {
        this.events.publish('RestoreFinished', {
          pubky,
          target: summary.target,
          uploaded: summary.uploaded,
          alreadyThere: summary.alreadyThere,
          failed: summary.failed.length,
        });
      }
      return summary;
    });
  }

  /**
   * Moves a backed-up pubky to another homeserver (`migrateKey`). While it runs the pubky is not
   * synced (its catch-up in progress is stopped first, keeping its work); afterwards it is followed
   * again — from the new homeserver once the `repoint` step is done. Publishes `MigrateStep` for
   * every step, `RestoreProgress` while uploading and `MigrateFinished`. `KEY_BUSY` (conflict) when
   * this pubky is already being migrated.
   */
  async migrate(
    text: string,
    options: ExitOptions & {
      homeserverKey?: string;
      onStep?: (step: string, record: { status: string; detail?: string }) => void;
    },
  ): Promise<MigrateResult> {
    return this.gate.shared(async () => {
      const layout = requireAddedKey(this.dataDir, text);
      const pubky = layout.z32;
      if (this.migrating.has(pubky))
        throw new BackupError('KEY_BUSY', `${pubky} is already being migrated.`, 'conflict');
      this.migrating.add(pubky);
      const following = !options.dryRun && this.manager?.pubkys.includes(pubky) === true;
      try {
        if (following) await this.manager?.remove(pubky);
        const pkdns = await this.pkdnsHandle();
        const result = await migrateKey(
          { ...this.exitContext(), publish: { relays: pkdns.relays, ...(pkdns.dht && { dht: pkdns.dht }) } },
          pubky,
          {
            ...options,
            onProgress: this.uploadProgress(pubky, options.onProgress),
            onStep: (step, record) => {
              if (!options.dryRun)
                this.events.publish('MigrateStep', {
                  pubky,
                  step,
                  status: record.status,
                  detail: record.detail,
                });
              options.onStep?.(step, record);
            },
          },
        );
        if (!result.dryRun) {
          await appendActivity(layout.activityLog, {
            type: 'migrated',
            message: `${result.complete ? 'migrated' : 'migrate stopped'}: ${result.steps.map((step) => `${step.step} ${step.status ?? ''}`.trim()).join(', ')} → ${result.target.url}`,
          });
          this.events.publish('MigrateFinished', { pubky, complete: result.complete, target: result.target });
        }
        return result;
      } finally {
        this.migrating.delete(pubky);
        // Followed again: key.json now names the new homeserver when `repoint` was done.
        if (following && this.manager) await this.manager.add(pubky).catch(() => {});
      }
    });
  }

  private exitContext(): ExitContext {
    return { dataDir: this.dataDir, config: this.config, resolver: () => this.resolver() };
  }

  /** `RestoreProgress` events, at most two per second per pubky, and the caller's own callback. */
  private uploadProgress(pubky: string, own?: (progress: RestoreProgress) => void) {
    let last = 0;
    return (progress: RestoreProgress) => {
      own?.(progress);
      const now = Date.now();
      if (now - last < 500 && progress.done < progress.total) return;
      last = now;
      this.events.publish('RestoreProgress', { pubky, ...progress });
    };
  }

  private async syncManager(): Promise<SyncManager> {
    if (this.manager) return this.manager;
    const manager = await SyncManager.open({
      dataDir: this.dataDir,
      config: this.config,
      pubkys: await activeKeys(this.dataDir),
      locate: async (pubky) => locateHomeserver(await this.resolver(), pubky),
    });
    manager.on('status', (pubky, status) => {
      if (status.state !== 'syncing') this.events.publish('StateChanged', { pubky, ...status });
    });
    manager.on('progress', (pubky, progress) => {
      // At most two progress events per second per key: a batch of 1000 files is not 1000 events.
      const now = Date.now();
      if (now - (this.lastProgress.get(pubky) ?? 0) < 500 && progress.done < progress.total) return;
      this.lastProgress.set(pubky, now);
      this.events.publish('SyncProgress', { pubky, ...progress });
    });
    manager.on('report', (report) => this.events.publish('SyncFinished', { ...report }));
    manager.on('failed', (pubky, error) =>
      this.events.publish('SyncFailed', { pubky, code: asBackupError(error).code, message: error.message }),
    );
    this.manager = manager;
    return manager;
  }

  private async resolver() {
    return (await this.pkdnsHandle()).resolver;
  }

  private async pkdnsHandle() {
    this.pkdns ??= await openResolver(this.options.pkdns, this.dataDir);
    return this.pkdns;
  }
}

/** What `check --repair` did, per pubky. */
export interface RepairOutcome {
  fetched: number;
  alreadyIntact: number;
  movedToVersions: number;
  stillFailing: number;
}

function asBackupError(error: Error): BackupError {
  if (error instanceof BackupError) return error;
  return new BackupError(codeOf(error), error.message, 'unavailable', {}, { cause: error });
}

function codeOf(error: Error): string {
  const code = (error as unknown as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'SYNC_FAILED';
}
