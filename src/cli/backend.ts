import {
  type AddedKey,
  addKey,
  BackupService,
  type ExitOptions,
  type KeySummary,
  lazyResolver,
  type RepairOutcome,
  requireAddedKey,
  type SyncOutcome,
  selectKeys,
  summarizeKey,
} from '../app/index.js';
import { DaemonClient } from '../daemon/client.js';
import { BackupError } from '../errors.js';
import { parsePubky } from '../identity/index.js';
import type { MigrateResult, RestoreProgress } from '../restore/index.js';
import { type CreatedSnapshot, snapshotKey } from '../snapshot/index.js';
import {
  type BackupLocation,
  backupLocation,
  type MovedBackup,
  type MoveProgress,
} from '../store/backup-location.js';
import { BackupStore, KeyLayout, listKeys } from '../store/index.js';
import type { SyncStatus } from '../sync/index.js';
import { checkBackup, type LocalCheckReport } from '../verify/index.js';
import type { CliContext } from './context.js';

/** A key's summary with what the running service says about it right now. */
export type LiveSummary = KeySummary & { live: SyncStatus | null };

/**
 * The use-cases the CLI runs either in this process (a `BackupService` holding the data folder)
 * or, when a daemon holds it, through the daemon's API — so a key added from the CLI appears in
 * the running daemon at once.
 */
export interface Backend {
  /** Where the work happens, for messages: `this process` or `the daemon (pid N)`. */
  readonly where: string;
  /** The service, when the work happens in this process (progress bars follow its events). */
  readonly service?: BackupService;
  list(): Promise<LiveSummary[]>;
  status(pubky: string): Promise<LiveSummary>;
  add(pubky: string, homeserver?: string): Promise<AddedKey>;
  remove(
    pubky: string,
    deleteData: boolean,
  ): Promise<{ pubky: string; folder: string; dataDeleted: boolean }>;
  syncNow(pubkys: string[], signal?: AbortSignal): Promise<SyncOutcome[] | Array<Record<string, unknown>>>;
  createSnapshots(
    pubkys: string[],
    signal?: AbortSignal,
  ): Promise<Array<{ pubky: string } & CreatedSnapshot>>;
  check(
    pubkys: string[],
    options: {
      readData?: boolean;
      repair?: boolean;
      signal?: AbortSignal;
      onProgress?: (pubky: string, done: number, total: number) => void;
    },
  ): Promise<Array<LocalCheckReport & { repair?: RepairOutcome }>>;
  /** Where the key folders are. */
  backupLocation(): Promise<BackupLocation>;
  /** Moves the backup to an empty or new folder; `onProgress` gets files and bytes copied so far. */
  moveBackup(
    target: string,
    onProgress: (progress: MoveProgress) => void,
    signal?: AbortSignal,
  ): Promise<MovedBackup>;
  /**
   * Moves a pubky to another homeserver (see `BackupService.migrate`); `onStep` hears each step
   * start and end, `onProgress` the uploads. Through a daemon the key goes to it in the request
   * body (127.0.0.1, bearer token) and is never stored.
   */
  migrate(
    pubky: string,
    options: MigrateRequest,
    onStep: (step: string, record: { status: string; detail?: string }) => void,
    onProgress: (progress: RestoreProgress) => void,
  ): Promise<MigrateResult>;
  close(): Promise<void>;
}

/** The choices of a migrate (the CLI's flags, the user's key already read). */
export type MigrateRequest = Omit<ExitOptions, 'onProgress'> & { homeserverKey?: string };

/**
 * Runs `task` against the daemon when one holds the data folder, else against a `BackupService`
 * opened here (taking the folder's instance lock as `command`), and closes it afterwards.
 */
export async function withBackend<T>(
  context: CliContext,
  command: string,
  task: (backend: Backend) => Promise<T>,
): Promise<T> {
  const dataDir = context.dataDir();
  const client = await DaemonClient.connect(dataDir);
  const backend = client ? daemonBackend(client) : await localBackend(context, command);
  try {
    return await task(backend);
  } finally {
    await backend.close();
  }
}

/**
 * Work in this process. Reading (list, status, check without repair) and adding or snapshotting
 * need no instance lock — they can run beside a `sync` process; writing the backup's state
 * (remove, sync, repair) opens the `BackupService`, which takes it.
 */
async function localBackend(context: CliContext, command: string): Promise<Backend> {
  const dataDir = context.dataDir();
  let opened: BackupService | undefined;
  const service = async () => {
    opened ??= await BackupService.open({
      dataDir,
      pkdns: context.pkdnsFlags(),
      command,
      tool: context.tool(),
    });
    return opened;
  };
  const live = async (pubky: string, activity: number): Promise<LiveSummary> => ({
    ...(await summarizeKey(dataDir, pubky, activity)),
    live: null,
  });
  return {
    where: 'this process',
    get service() {
      return opened;
    },
    list: async () => Promise.all((await listKeys(dataDir)).map((pubky) => live(pubky, 0))),
    status: (pubky) => live(requireAddedKey(dataDir, pubky).z32, 5),
    add: async (pubky, homeserver) => {
      const pkdns = lazyResolver(context.pkdnsFlags(), dataDir);
      try {
        return await addKey(dataDir, pubky, pkdns.resolver, homeserver);
      } finally {
        await pkdns.close();
      }
    },
    remove: async (pubky, deleteData) => (await service()).remove(pubky, { deleteData }),
    syncNow: async (pubkys, signal) => (await service()).syncNow(pubkys, signal),
    createSnapshots: async (pubkys, signal) => {
      const created = [];
      for (const pubky of await selectKeys(dataDir, pubkys)) {
        created.push({
          pubky,
          ...(await snapshotKey(dataDir, pubky, {
            tool: context.tool(),
            signal,
            onWait: (holder) => process.stderr.write(`${pubky}  waiting for ${holder} to finish writing…\n`),
          })),
        });
      }
      return created;
    },
    check: async (pubkys, options) =>
      options.repair ? (await service()).check(pubkys, options) : checkWithoutLock(dataDir, pubkys, options),
    backupLocation: () => backupLocation(dataDir),
    moveBackup: async (target, onProgress, signal) =>
      (await service()).moveBackup(target, { onProgress, signal }),
    migrate: async (pubky, options, onStep, onProgress) =>
      (await service()).migrate(pubky, { ...options, onStep, onProgress }),
    close: async () => {
      await opened?.close();
    },
  };
}

/** `check` without `--repair` reads only: no lock, so it runs beside a sync. */
async function checkWithoutLock(
  dataDir: string,
  pubkys: string[],
  options: {
    readData?: boolean;
    signal?: AbortSignal;
    onProgress?: (pubky: string, done: number, total: number) => void;
  },
) {
  const reports = [];
  for (const pubky of await selectKeys(dataDir, pubkys)) {
    const layout = new KeyLayout(dataDir, pubky);
    reports.push(
      await checkBackup(BackupStore.openFs(layout.keyDir), layout, {
        readData: options.readData,
        signal: options.signal,
        onProgress: (done, total) => options.onProgress?.(pubky, done, total),
      }),
    );
  }
  return reports;
}

function daemonBackend(client: DaemonClient): Backend {
  const key = (pubky: string) => `/keys/${encodeURIComponent(pubky)}`;
  const forEach = async <T>(pubkys: string[], one: (pubky: string) => Promise<T>): Promise<T[]> => {
    const targets =
      pubkys.length > 0
        ? pubkys
        : (await client.request<{ keys: KeySummary[] }>('GET', '/keys')).keys
            .filter((k) => k.active)
            .map((k) => k.pubky);
    const results: T[] = [];
    for (const pubky of targets) results.push(await one(pubky));
    return results;
  };
  return {
    where: `the daemon (pid ${client.info.pid})`,
    list: async () => (await client.request<{ keys: LiveSummary[] }>('GET', '/keys')).keys,
    status: async (pubky) => (await client.request<{ key: LiveSummary }>('GET', key(pubky))).key,
    add: async (pubky, homeserver) =>
      (await client.request<{ key: AddedKey }>('POST', '/keys', { pubky, ...(homeserver && { homeserver }) }))
        .key,
    remove: (pubky, deleteData) =>
      client.request('DELETE', `${key(pubky)}${deleteData ? '?deleteData=true' : ''}`),
    syncNow: async (pubkys, signal) => {
      if (pubkys.length === 0)
        return (
          await client.request<{ results: Array<Record<string, unknown>> }>(
            'POST',
            '/sync',
            undefined,
            signal,
          )
        ).results;
      return (
        await forEach(
          pubkys,
          async (pubky) =>
            (
              await client.request<{ results: Array<Record<string, unknown>> }>(
                'POST',
                `${key(pubky)}/sync`,
                undefined,
                signal,
              )
            ).results,
        )
      ).flat();
    },
    createSnapshots: (pubkys) =>
      forEach(pubkys, async (pubky) => {
        const { snapshot } = await client.request<{ snapshot: { pubky: string } & CreatedSnapshot }>(
          'POST',
          `${key(pubky)}/snapshots`,
        );
        return snapshot;
      }),
    check: (pubkys, options) =>
      forEach(pubkys, async (pubky) => {
        const body = { readData: options.readData, repair: options.repair };
        return (
          await client.request<{ report: LocalCheckReport & { repair?: RepairOutcome } }>(
            'POST',
            `${key(pubky)}/check`,
            body,
          )
        ).report;
      }),
    backupLocation: async () =>
      (await client.request<{ location: BackupLocation }>('GET', '/backup-location')).location,
    moveBackup: async (target, onProgress, signal) => {
      const following = new AbortController();
      signal?.addEventListener('abort', () => following.abort(), { once: true });
      const { daemon } = await client.request<{ daemon: { lastEventId: number } }>('GET', '/status');
      void client.events(
        daemon.lastEventId,
        (event) => event.type === 'MoveProgress' && onProgress(event.data as unknown as MoveProgress),
        following.signal,
      );
      try {
        return (
          await client.request<{ moved: MovedBackup }>('POST', '/backup-location', { path: target }, signal)
        ).moved;
      } finally {
        following.abort();
      }
    },
    migrate: async (pubky, options, onStep, onProgress) => {
      const following = new AbortController();
      options.signal?.addEventListener('abort', () => following.abort(), { once: true });
      const { daemon } = await client.request<{ daemon: { lastEventId: number } }>('GET', '/status');
      const z32 = parsePubky(pubky).z32;
      void client.events(
        daemon.lastEventId,
        (event) => {
          if (event.data.pubky !== z32) return;
          if (event.type === 'RestoreProgress') onProgress(event.data as unknown as RestoreProgress);
          if (event.type === 'MigrateStep') {
            const { step, status, detail } = event.data as { step: string; status: string; detail?: string };
            onStep(step, { status, detail });
          }
        },
        following.signal,
      );
      const body = {
        to: options.to,
        from: options.from,
        at: options.at?.toISOString(),
        dryRun: options.dryRun,
        signupToken: options.signupToken,
        concurrency: options.concurrency,
        homeserverKey: options.homeserverKey,
        ...(options.keypair && { secretKey: Buffer.from(options.keypair.secretKey()).toString('hex') }),
      };
      try {
        return (
          await client.request<{ result: MigrateResult }>(
            'POST',
            `${key(pubky)}/migrate`,
            body,
            options.signal,
          )
        ).result;
      } finally {
        following.abort();
      }
    },
    close: async () => {},
  };
}

/** A use-case the daemon does not offer: say so plainly (the data folder is its). */
export function daemonHolds(client: DaemonClient, what: string): BackupError {
  return new BackupError(
    'ALREADY_RUNNING',
    `The daemon (pid ${client.info.pid}) holds this data folder; ${what} needs it: stop the daemon first.`,
    'conflict',
  );
}
