import type { BackupEvent } from '../app/event-log.js';
import { DaemonClient } from '../daemon/client.js';
import { type DaemonInfo, findDaemon } from '../daemon/daemon-file.js';
import type { BackupError } from '../errors.js';
import { dashboardUrl } from './dashboard.js';
import type { TrayHost } from './host.js';
import { buildMenu, type TrayAction } from './menu.js';
import { IncidentNotifier, type Notify } from './notifier.js';
import { keyLevel, type StatusKey } from './status.js';

export interface TrayAppOptions {
  dataDir: string;
  host: TrayHost;
  notify: Notify;
  /** Opens an address or a folder (default browser, file manager). */
  open: (target: string) => Promise<void>;
  /** One line for people (stderr; the daemon's log when the daemon started the tray). */
  log?: (line: string) => void;
  /** How often a missing daemon is looked for, and a running one's `daemon.json` re-read (ms). */
  retryMs?: number;
  /** Told once the icon is shown. */
  onStarted?: () => void;
  /** Finds the daemon of the data folder (default: its `daemon.json` with a live pid). */
  findDaemon?: (dataDir: string) => Promise<DaemonInfo | undefined>;
}

/** How the tray ended: Quit from its menu, or stopped from outside (signal, parent gone). */
export type TrayEnd = 'quit' | 'stopped';

const REFRESH_DEBOUNCE_MS = 300;

/**
 * The tray: follows the daemon of a data folder through its control API only (`GET /status` and
 * the event stream), shows the aggregated status on the icon and a menu whose entries call the API.
 * Waits for a daemon that is not running, and when the daemon restarts (new pid or token in
 * `daemon.json`) follows the new one. Notifies once per incident (a key in error, a mass-delete pause).
 */
export class TrayApp {
  private keys: StatusKey[] | undefined;
  private client: DaemonClient | undefined;
  private readonly stopped = new AbortController();
  private readonly notifier: IncidentNotifier;
  private quit = false;
  private failure: BackupError | undefined;
  private rendering: Promise<void> = Promise.resolve();
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<boolean> | undefined;
  private readonly retryMs: number;

  constructor(private readonly options: TrayAppOptions) {
    this.notifier = new IncidentNotifier(options.notify);
    this.retryMs = options.retryMs ?? 1_000;
  }

  /** Runs until Quit, `signal`, or the icon going away (then rejects with `TRAY_UNAVAILABLE`). */
  async run(signal?: AbortSignal): Promise<TrayEnd> {
    const stop = () => this.stopped.abort();
    signal?.addEventListener('abort', stop, { once: true });
    this.options.host.onAction((action) => void this.handle(action));
    this.options.host.onExit((error) => {
      this.failure = error;
      stop();
    });
    try {
      // The first show starts the icon: a tray that cannot start fails here, before anything else.
      await this.options.host.show(buildMenu(undefined));
      this.options.onStarted?.();
      while (!this.stopped.signal.aborted) await this.follow();
      await this.rendering;
    } finally {
      signal?.removeEventListener('abort', stop);
      clearTimeout(this.refreshTimer);
      await this.options.host.close().catch(() => {});
    }
    if (this.failure) throw this.failure;
    return this.quit ? 'quit' : 'stopped';
  }

  /** One daemon, from finding it until it goes away (or the tray stops). */
  private async follow(): Promise<void> {
    const find = this.options.findDaemon ?? findDaemon;
    const info = await find(this.options.dataDir);
    if (!info) return this.offline();
    const client = new DaemonClient(info);
    const session = new AbortController();
    const end = () => session.abort();
    this.stopped.signal.addEventListener('abort', end, { once: true });
    const watcher = setInterval(async () => {
      const now = await find(this.options.dataDir).catch(() => undefined);
      if (now?.pid !== info.pid || now.token !== info.token) end();
    }, this.retryMs);
    try {
      const since = Date.now();
      this.client = client;
      if (!(await this.refresh(session.signal))) {
        this.client = undefined;
        return this.offline();
      }
      this.options.log?.(`following the daemon (pid ${info.pid}) on port ${info.port}`);
      // Every event after the status was read changes what is shown; older ones (the stream starts
      // with the kept history) are already in it.
      await client.events(
        0,
        (event) => {
          if (Date.parse(event.time) >= since - 1_000) this.onEvent(event);
        },
        session.signal,
      );
    } finally {
      clearInterval(watcher);
      this.stopped.signal.removeEventListener('abort', end);
      this.client = undefined;
    }
    if (!this.stopped.signal.aborted) {
      this.options.log?.(`the daemon (pid ${info.pid}) went away; waiting for it`);
      await this.offline();
    }
  }

  /** No daemon: the offline icon, then wait before looking again. */
  private async offline(): Promise<void> {
    if (this.keys !== undefined) {
      this.keys = undefined;
      this.render();
    }
    await sleep(this.retryMs, this.stopped.signal);
  }

  private onEvent(event: BackupEvent): void {
    const data = event.data as { pubky?: string; state?: string; done?: number; total?: number };
    const key = this.keys?.find((candidate) => candidate.pubky === data.pubky);
    if (event.type === 'SyncProgress' && key) {
      key.live = { state: 'syncing', done: data.done, total: data.total };
      this.render();
      return;
    }
    if (event.type === 'StateChanged' && key && data.state) {
      const { pubky: _, ...live } = data as Record<string, unknown>;
      if (data.state === 'resumed') {
        key.paused = null;
        key.live = { state: 'starting' };
      } else {
        key.live = live as StatusKey['live'];
        if (data.state === 'paused' && (live as { reason?: string }).reason === 'user') {
          key.paused = { reason: 'user', deletes: 0, files: 0 };
        }
      }
      this.show();
    }
    if (event.type !== 'SyncProgress') this.scheduleRefresh();
  }

  /** Reads `GET /status` again soon (several events in a row: one read). */
  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(this.stopped.signal), REFRESH_DEBOUNCE_MS);
  }

  /** Reads `GET /status` and shows it; false when the daemon did not answer. */
  private async refresh(signal: AbortSignal): Promise<boolean> {
    if (this.refreshing) {
      await this.refreshing;
      this.scheduleRefresh();
      return true;
    }
    const client = this.client;
    if (!client) return false;
    this.refreshing = (async () => {
      try {
        const status = await client.request<{ keys: StatusKey[] }>('GET', '/status', undefined, signal);
        if (this.client !== client) return false;
        this.keys = status.keys;
        this.show();
        return true;
      } catch (error) {
        if (!signal.aborted)
          this.options.log?.(`cannot read the daemon's status: ${(error as Error).message}`);
        return false;
      }
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Notifications for new incidents, then the menu. */
  private show(): void {
    if (this.keys) this.notifier.update(this.keys);
    this.render();
  }

  /** Shows the current state; one show at a time, in order. */
  private render(): void {
    const menu = buildMenu(this.keys);
    this.rendering = this.rendering
      .then(() => this.options.host.show(menu))
      .catch((error: BackupError) => {
        this.failure ??= error;
        this.stopped.abort();
      });
  }

  /** A menu click: one API call (or opening the dashboard or a folder). */
  private async handle(action: TrayAction): Promise<void> {
    const client = this.client;
    try {
      switch (action.kind) {
        case 'quit':
          this.quit = true;
          if (client) await client.request('POST', '/daemon/stop').catch(() => {});
          this.stopped.abort();
          return;
        case 'open-dashboard':
          if (client) await this.options.open(await dashboardUrl(client));
          return;
        case 'open-key':
          await this.options.open(action.folder);
          return;
      }
      if (!client) return;
      this.options.log?.(`${describe(action)}`);
      const keys = (this.keys ?? []).filter((key) => key.active);
      const path = (pubky: string, verb: string) => `/keys/${encodeURIComponent(pubky)}/${verb}`;
      switch (action.kind) {
        case 'sync-all':
          await client.request('POST', '/sync');
          break;
        case 'sync-key':
          await client.request('POST', path(action.pubky, 'sync'));
          break;
        case 'pause-key':
          await client.request('POST', path(action.pubky, 'pause'));
          break;
        case 'resume-key':
          await client.request('POST', path(action.pubky, 'resume'), {});
          break;
        case 'pause-all':
          for (const key of keys.filter((k) => keyLevel(k) !== 'paused'))
            await client.request('POST', path(key.pubky, 'pause'));
          break;
        case 'resume-all':
          for (const key of keys.filter((k) => k.paused?.reason === 'user'))
            await client.request('POST', path(key.pubky, 'resume'), {});
          break;
      }
    } catch (error) {
      this.options.log?.(`${describe(action)} failed: ${(error as Error).message}`);
    }
    this.scheduleRefresh();
  }
}

function describe(action: TrayAction): string {
  const names: Record<TrayAction['kind'], string> = {
    'open-dashboard': 'open dashboard',
    'sync-all': 'force sync all',
    'pause-all': 'pause all',
    'resume-all': 'resume all',
    'sync-key': 'force sync',
    'pause-key': 'pause',
    'resume-key': 'resume',
    'open-key': 'open folder',
    quit: 'quit',
  };
  return 'pubky' in action ? `${names[action.kind]} ${action.pubky}` : names[action.kind];
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
