import { rm } from 'node:fs/promises';
import { type Config, configPath, loadConfig, saveConfig, withField } from '../config/index.js';
import { BackupError } from '../errors.js';
import { snapshotKey } from '../snapshot/index.js';
import {
  acceptDeletes,
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
import { type AddedKey, addKey } from './add-key.js';
import { EventLog } from './event-log.js';
import { type KeySummary, summarizeKey } from './key-summary.js';
import { activeKeys, requireAddedKey, selectKeys } from './keys.js';
import { runMaintenance } from './maintenance.js';
import { locateHomeserver, openResolver, type PkdnsFlags } from './pkdns.js';

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
    const added = await addKey(this.dataDir, text, () => this.resolver(), options.homeserver);
    this.events.publish('KeyAdded', { pubky: added.pubky, homeserver: added.homeserver });
    if (this.manager) await this.manager.add(added.pubky).catch(() => {}); // a broken start shows in status
    return added;
  }

  /**
   * Stops backing up a pubky: its current catch-up is stopped and awaited first, then the folder is
   * marked inactive (data kept) or deleted for good with `deleteData`.
   */
  async remove(
    text: string,
    options: { deleteData?: boolean } = {},
  ): Promise<{ pubky: string; folder: string; dataDeleted: boolean }> {
    const layout = requireAddedKey(this.dataDir, text);
    await this.manager?.remove(layout.z32);
    if (options.deleteData) await rm(layout.keyDir, { recursive: true, force: true });
    else await markInactive(layout);
    this.events.publish('KeyRemoved', { pubky: layout.z32, dataDeleted: options.deleteData === true });
    return { pubky: layout.z32, folder: layout.keyDir, dataDeleted: options.deleteData === true };
  }

  /** Pauses a pubky (no sync until resumed); a catch-up in progress stops at once, keeping its work. */
  async pause(text: string): Promise<{ pubky: string }> {
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
    this.events.publish('StateChanged', { pubky: layout.z32, state: 'paused', reason: 'user' });
    return { pubky: layout.z32 };
  }

  /**
   * Resumes a paused pubky. A pause of the mass-delete guard needs `acceptDeletes` (the deletes are
   * then applied); `NOT_PAUSED` (conflict) when there is nothing to resume.
   */
  async resume(
    text: string,
    options: { acceptDeletes?: boolean } = {},
  ): Promise<{ pubky: string; deletesAccepted: number }> {
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
    this.events.publish('StateChanged', { pubky: layout.z32, state: 'resumed' });
    if (this.running) void this.syncNow([layout.z32]).catch(() => {});
    return { pubky: layout.z32, deletesAccepted };
  }

  /**
   * Catches every (or the named) pubky up to the head of its feed now and retries due failures
   * ("Force sync"). Failures of one key never stop the others: each outcome is its report or its
   * error. `NO_KEYS` when nothing is backed up yet.
   */
  async syncNow(texts: readonly string[] = [], signal?: AbortSignal): Promise<SyncOutcome[]> {
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
        config: this.config,
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
    const created = [];
    for (const pubky of await selectKeys(this.dataDir, texts)) {
      const snapshot = await snapshotKey(this.dataDir, pubky, {
        tool: this.options.tool,
        signal: options.signal,
        onWait: (holder) => options.onWait?.(pubky, holder),
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
        if (!key) throw asBackupError(manager.brokenKeys.get(pubky) ?? new Error(`${pubky} could not start`));
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
  }

  /** Rebuilds a pubky's index from its files (differences adopted only with `accept`). */
  async reindex(text: string, options: { accept?: boolean } = {}) {
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
  }

  /**
   * Changes one setting (`syncIntervalSeconds`, `snapshots.every`, …), validated like the file;
   * written atomically. Takes effect for new work (a restart applies everything at once).
   */
  async setConfig(field: string, value: unknown): Promise<Config> {
    const updated = withField(configPath(this.dataDir), this.config, field, value);
    await saveConfig(this.dataDir, updated);
    this.config = updated;
    this.events.publish('ConfigChanged', { field, value });
    return updated;
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
    this.pkdns ??= await openResolver(this.options.pkdns, this.dataDir);
    return this.pkdns.resolver;
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
