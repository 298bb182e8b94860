import { EventEmitter } from 'node:events';
import PQueue from 'p-queue';
import type { Config } from '../config/index.js';
import { compareCursors, HomeserverClient } from '../homeserver/index.js';
import { BackupStore, type KeyConfig, KeyLayout, readKeyConfig, writeKeyConfig } from '../store/index.js';

import { KeySync } from './key-sync.js';
import { MAX_USERS_PER_STREAM, watchLive } from './live-watcher.js';
import type { SyncReport, SyncStatus } from './status.js';

/** Where a key's homeserver is, as PKDNS (or the key's pinned URL) says right now. */
export interface HomeserverLocation {
  url: string;
  /** Homeserver key or URL: when it changes, the user moved and the backup is reconciled. */
  identity: string;
}

export interface SyncManagerOptions {
  dataDir: string;
  config: Config;
  pubkys: readonly string[];
  /** Finds an unpinned key's homeserver (PKDNS). */
  locate: (pubky: string) => Promise<HomeserverLocation>;
  /** How often `run` asks PKDNS again whether an unpinned user moved. Default 1 h. */
  relocateIntervalMs?: number;
  /** Clock for retry scheduling (tests move it forward). */
  now?: () => number;
}

interface ManagedKey {
  sync: KeySync;
  location: HomeserverLocation;
  /** `state/key.json`, read once; only this process writes it while it runs. */
  config: KeyConfig;
  /** Aborts this key's current catch-up (pause, removal); replaced after each use. */
  stop: AbortController;
}

export interface SyncManagerEvents {
  status: [string, SyncStatus];
  report: [SyncReport];
  /** A catch-up failed (not when it was stopped on purpose). */
  failed: [string, Error];
  progress: [string, { done: number; total: number; bytes: number }];
}

/**
 * Owns one KeySync per pubky, one HTTP client and download queue per homeserver, and decides when
 * keys sync: once (`sync --once`), or continuously (live stream wake-ups plus a poll timer).
 */
export class SyncManager extends EventEmitter<SyncManagerEvents> {
  private readonly keys = new Map<string, ManagedKey>();
  /** Keys that could not even start (homeserver not found, unreadable state): reported by every run. */
  private readonly broken = new Map<string, Error>();
  private readonly clients = new Map<string, { client: HomeserverClient; downloads: PQueue }>();
  /** Restarts `run`'s poll timer with the current interval (set while `run` runs). */
  private restartPoll?: () => void;

  private constructor(private readonly options: SyncManagerOptions) {
    super();
  }

  /**
   * New settings while running: the poll interval and download concurrency apply at once; the
   * request timeout applies to homeservers connected after the change.
   */
  applyConfig(config: Config): void {
    const old = this.options.config;
    this.options.config = config;
    if (config.downloadConcurrency !== old.downloadConcurrency) {
      for (const { downloads } of this.clients.values()) downloads.concurrency = config.downloadConcurrency;
    }
    if (config.syncIntervalSeconds !== old.syncIntervalSeconds) this.restartPoll?.();
  }

  static async open(options: SyncManagerOptions): Promise<SyncManager> {
    const manager = new SyncManager(options);
    for (const pubky of options.pubkys) {
      await manager.addKey(pubky).catch((error: Error) => manager.broken.set(pubky, error));
    }
    return manager;
  }

  get pubkys(): string[] {
    return [...this.keys.keys()];
  }

  /** Keys that could not start (homeserver not found, unreadable state), with why. */
  get brokenKeys(): ReadonlyMap<string, Error> {
    return this.broken;
  }

  /**
   * Starts following a key at run time (added while the service runs). Throws what made it fail
   * to start (the key is then retried at each relocation, like the keys of `open`).
   */
  async add(pubky: string): Promise<void> {
    if (this.keys.has(pubky)) return;
    try {
      await this.addKey(pubky);
      this.broken.delete(pubky);
    } catch (error) {
      this.broken.set(pubky, error as Error);
      throw error;
    }
    this.onKeysChanged?.();
  }

  /**
   * Stops following a key: its current catch-up is aborted and awaited (a batch being written
   * persists what it verified and releases the write lock first), so the caller may then delete
   * its folder safely.
   */
  async remove(pubky: string): Promise<void> {
    this.broken.delete(pubky);
    const key = this.keys.get(pubky);
    if (!key) return;
    this.keys.delete(pubky);
    key.stop.abort(new Error('removed'));
    await key.sync.idle();
    key.sync.removeAllListeners();
    this.onKeysChanged?.();
  }

  /** Aborts a key's current catch-up (a pause takes effect at once); later ones run as usual. */
  async interrupt(pubky: string): Promise<void> {
    const key = this.keys.get(pubky);
    if (!key) return;
    const stop = key.stop;
    key.stop = new AbortController();
    stop.abort(new Error('interrupted'));
    await key.sync.idle();
  }

  /** Set by `run` while it runs: regroups the live streams when keys come and go. */
  private onKeysChanged: (() => void) | undefined;

  key(pubky: string): KeySync | undefined {
    return this.keys.get(pubky)?.sync;
  }

  /**
   * Every key (or the named ones) caught up once, in parallel; failures of one key don't stop the
   * others. Keys that could not start are reported with why.
   */
  async syncOnce(
    signal?: AbortSignal,
    only?: readonly string[],
  ): Promise<Array<SyncReport | { pubky: string; error: Error }>> {
    const wanted = (pubky: string) => !only || only.includes(pubky);
    const results = await Promise.all(
      [...this.keys.entries()]
        .filter(([pubky]) => wanted(pubky))
        .map(async ([pubky, key]) => {
          try {
            return await this.catchUpKey(key, signal);
          } catch (error) {
            return { pubky, error: error as Error };
          }
        }),
    );
    return [
      ...results,
      ...[...this.broken].filter(([pubky]) => wanted(pubky)).map(([pubky, error]) => ({ pubky, error })),
    ];
  }

  /**
   * Runs until `signal` aborts: live stream where available, polling every interval regardless.
   * A key whose catch-up fails (homeserver down, a stuck feed) rests before it is tried again —
   * 30 s doubling to 30 min — however often the live stream or the poll wakes it: no hot loop.
   */
  async run(signal: AbortSignal): Promise<void> {
    const pending = new Map<string, NodeJS.Timeout>();
    const resting = new Map<string, { failures: number; until: number }>();
    const settle = (pubky: string, failed: boolean) => {
      if (!failed) return resting.delete(pubky);
      const failures = (resting.get(pubky)?.failures ?? 0) + 1;
      resting.set(pubky, { failures, until: Date.now() + errorBackoffMs(failures) });
    };
    const wake = (pubky: string) => {
      const key = this.keys.get(pubky);
      if (!key || pending.has(pubky) || signal.aborted) return;
      if ((resting.get(pubky)?.until ?? 0) > Date.now()) return;
      // Debounce a burst of events into one catch-up.
      const timer = setTimeout(() => {
        pending.delete(pubky);
        this.catchUpKey(key, signal).then(
          () => {
            settle(pubky, false);
            if (streamBehind(pubky)) void regroup();
          },
          () => settle(pubky, !signal.aborted),
        );
      }, 50);
      pending.set(pubky, timer);
    };
    for (const result of await this.syncOnce(signal)) settle(result.pubky, 'error' in result);
    // The cursor each key's live stream was opened with. A catch-up that moved a cursor below it
    // (after a migrate or a move to another homeserver, a reset feed, a refused cursor) means the
    // stream would stay silent for the new homeserver's lower event ids: it is opened again.
    const subscribed = new Map<string, string>();
    const streamBehind = (pubky: string) => {
      const opened = subscribed.get(pubky);
      const cursor = this.keys.get(pubky)?.sync.cursor;
      if (opened === undefined || cursor === undefined || opened === cursor) return false;
      return (compareCursors(cursor, opened) ?? -1) < 0;
    };
    let watchers = this.startWatchers(wake, signal, subscribed);
    // One regroup at a time: two at once would each start streams, and one set would be orphaned.
    let regrouping = Promise.resolve();
    const regroup = () => {
      regrouping = regrouping.then(async () => {
        watchers.stop.abort();
        await watchers.done;
        if (!signal.aborted) watchers = this.startWatchers(wake, signal, subscribed);
      });
      return regrouping;
    };
    this.onKeysChanged = () => {
      void regroup();
      for (const pubky of this.keys.keys()) if (!resting.has(pubky)) wake(pubky);
    };
    // A user the homeserver did not know is left out of the live streams (one unknown user makes
    // the homeserver refuse the whole stream); once it appears, the streams are regrouped.
    const waiting = new Set(this.pubkys.filter((pubky) => this.key(pubky)?.status.state === 'waiting'));
    const onStatus = (pubky: string, status: SyncStatus) => {
      if (status.state === 'waiting') waiting.add(pubky);
      else if (status.state !== 'syncing' && waiting.delete(pubky)) void regroup();
    };
    this.on('status', onStatus);
    const startPoll = () =>
      setInterval(() => {
        for (const pubky of this.keys.keys()) wake(pubky);
      }, this.options.config.syncIntervalSeconds * 1000);
    let poll = startPoll();
    this.restartPoll = () => {
      clearInterval(poll);
      poll = startPoll();
    };
    const relocate = setInterval(async () => {
      // Someone moved: regroup the live connections by homeserver.
      if (await this.relocate()) await regroup();
    }, this.options.relocateIntervalMs ?? 3_600_000);
    if (!signal.aborted) {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    clearInterval(poll);
    clearInterval(relocate);
    this.onKeysChanged = undefined;
    this.restartPoll = undefined;
    this.off('status', onStatus);
    for (const timer of pending.values()) clearTimeout(timer);
    await regrouping;
    await watchers.done;
  }

  /** Asks PKDNS again for every unpinned key; true if any homeserver changed. */
  async relocate(): Promise<boolean> {
    let moved = false;
    // Keys that could not start (homeserver not found) get another chance.
    for (const [pubky] of this.broken) {
      try {
        await this.addKey(pubky);
        this.broken.delete(pubky);
        moved = true;
      } catch (error) {
        this.broken.set(pubky, error as Error);
      }
    }
    for (const [pubky, key] of this.keys) {
      if (key.config.homeserverUrl) continue;
      const location = await this.options.locate(pubky).catch(() => undefined);
      if (!location || location.identity === key.location.identity) continue;
      const { client, downloads } = this.clientFor(location.url);
      key.sync.useHomeserver(client, downloads);
      key.location = location;
      moved = true;
    }
    return moved;
  }

  private startWatchers(wake: (pubky: string) => void, signal: AbortSignal, subscribed: Map<string, string>) {
    const stop = new AbortController();
    const both = AbortSignal.any([signal, stop.signal]);
    const done = Promise.allSettled(
      this.liveGroups().map((group) =>
        watchLive({
          client: group.client,
          users: () =>
            group.pubkys
              .filter((user) => this.keys.get(user)?.sync.status.state !== 'waiting')
              .map((user) => {
                const cursor = this.keys.get(user)?.sync.cursor ?? '0';
                subscribed.set(user, cursor);
                return { user, cursor };
              }),
          onActivity: wake,
          signal: both,
        }),
      ),
    );
    return { stop, done };
  }

  /** Catch up every key now (the tray's and dashboard's "Force sync"). */
  forceSync(signal?: AbortSignal) {
    return this.syncOnce(signal);
  }

  private async addKey(pubky: string): Promise<void> {
    const layout = new KeyLayout(this.options.dataDir, pubky);
    const keyConfig = await readKeyConfig(layout.keyConfigFile, pubky);
    const location = keyConfig.homeserverUrl
      ? { url: keyConfig.homeserverUrl, identity: keyConfig.homeserverUrl }
      : await this.options.locate(pubky);
    const { client, downloads } = this.clientFor(location.url);
    const sync = await KeySync.open({
      dataDir: this.options.dataDir,
      pubky,
      store: BackupStore.openFs(layout.keyDir),
      client,
      downloads,
      now: this.options.now,
    });
    sync.on('status', (status) => this.emit('status', pubky, status));
    sync.on('report', (report) => this.emit('report', report));
    sync.on('progress', (progress) => this.emit('progress', pubky, progress));
    this.keys.set(pubky, { sync, location, config: keyConfig, stop: new AbortController() });
  }

  private async catchUpKey(key: ManagedKey, signal?: AbortSignal): Promise<SyncReport> {
    // The user moved homeserver: the old cursor means nothing there; compare by listing instead.
    const { syncedFrom } = key.config;
    const moved = syncedFrom !== undefined && syncedFrom !== key.location.identity;
    const both = signal ? AbortSignal.any([signal, key.stop.signal]) : key.stop.signal;
    const report = await key.sync.catchUp(both, { reconcile: moved }).catch((error: Error) => {
      if (!both.aborted) this.emit('failed', key.sync.pubky, error);
      throw error;
    });
    if (syncedFrom !== key.location.identity) {
      key.config = { ...key.config, syncedFrom: key.location.identity };
      await writeKeyConfig(key.sync.layout.keyConfigFile, key.config);
    }
    return report;
  }

  private clientFor(url: string) {
    let entry = this.clients.get(url);
    if (!entry) {
      entry = {
        client: new HomeserverClient({
          baseUrl: url,
          requestTimeoutMs: this.options.config.requestTimeoutSeconds * 1000,
        }),
        downloads: new PQueue({ concurrency: this.options.config.downloadConcurrency }),
      };
      this.clients.set(url, entry);
    }
    return entry;
  }

  /** Keys grouped by homeserver, at most 50 per live connection. */
  private liveGroups(): Array<{ client: HomeserverClient; pubkys: string[] }> {
    const groups: Array<{ client: HomeserverClient; pubkys: string[] }> = [];
    for (const [url, { client }] of this.clients) {
      const pubkys = [...this.keys.entries()].filter(([, k]) => k.location.url === url).map(([p]) => p);
      for (let i = 0; i < pubkys.length; i += MAX_USERS_PER_STREAM) {
        groups.push({ client, pubkys: pubkys.slice(i, i + MAX_USERS_PER_STREAM) });
      }
    }
    return groups;
  }
}

/** Rest after the n-th failed catch-up in a row: 30 s, 1 min, 2 min … 30 min. */
export function errorBackoffMs(failures: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, failures - 1), 30 * 60_000);
}
