import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { BackupService, type PkdnsFlags } from '../app/index.js';
import { BackupError } from '../errors.js';
import { createApi } from './api.js';
import { type DaemonInfo, newToken, removeDaemonInfo, writeDaemonInfo } from './daemon-file.js';
import { createDaemonLogger } from './logger.js';
import { TrayLauncher } from './tray-child.js';
import { DashboardSessions } from './web.js';

export interface DaemonOptions {
  dataDir: string;
  pkdns: PkdnsFlags;
  /** `pubky-backup 0.1.0`: recorded in snapshots and shown by the API. */
  tool: string;
  version: string;
  /** Overrides `daemon.port` of the config (0: any free port). */
  port?: number;
  /** Stops the daemon when it aborts (besides SIGTERM/SIGINT and `POST /api/v1/daemon/stop`). */
  signal?: AbortSignal;
  /** Told once the API listens and `daemon.json` is written. */
  onReady?: (info: DaemonInfo & { url: string }) => void;
  /** How to run the CLI for the tray child (default: this installation's `node dist/cli/main.js`). */
  trayCommand?: readonly string[];
}

/** Longest a stop may take before the process exits anyway (SIGTERM promise of the README). */
export const STOP_DEADLINE_MS = 5_000;

/**
 * Runs the daemon in the foreground until stopped: the `BackupService` (instance lock, sync of
 * every key, schedules, event log), the control API on 127.0.0.1, `daemon.json` (pid, port, token;
 * mode 0600) and the JSON logs. A stop closes the API, lets an in-flight batch persist and the
 * locks go, removes `daemon.json`, and resolves; `PORT_IN_USE` when the port is taken.
 */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  const service = await BackupService.open({
    dataDir: options.dataDir,
    pkdns: options.pkdns,
    command: 'daemon',
    tool: options.tool,
  });
  const { logger, close: closeLog } = await createDaemonLogger(options.dataDir);
  const stopRequested = new AbortController();
  const stop = () => stopRequested.abort();
  const token = newToken();
  const startedAt = new Date().toISOString();
  let server: ReturnType<typeof serve> | undefined;
  const unsubscribe = service.events.subscribe((event) =>
    logger.info({ event: event.type, id: event.id, ...event.data }, event.type),
  );
  // The tray icon, when a desktop is there (`tray.enabled`); it follows the setting at run time.
  const tray = new TrayLauncher({
    dataDir: options.dataDir,
    command: options.trayCommand,
    log: (level, message) => logger[level](message),
  });
  const unsubscribeTray = service.events.subscribe((event) => {
    const field = (event.data as { field?: string }).field;
    if (event.type === 'ConfigChanged' && (field === 'tray' || field === 'tray.enabled')) {
      void tray.apply(service.settings.tray.enabled);
    }
  });
  try {
    const port = options.port ?? service.settings.daemon.port;
    let app: ReturnType<typeof createApi> | undefined;
    const listening = await new Promise<AddressInfo>((resolve, reject) => {
      server = serve(
        {
          fetch: (request, env) => (app as ReturnType<typeof createApi>).fetch(request, env),
          hostname: '127.0.0.1',
          port,
        },
        (info) => resolve(info as AddressInfo),
      );
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new BackupError(
                'PORT_IN_USE',
                `Port ${port} of 127.0.0.1 is already in use (another daemon?); set daemon.port to another port, or 0 for any free one.`,
                'conflict',
                { port },
              )
            : error,
        ),
      );
    });
    app = createApi({
      service,
      port: listening.port,
      token,
      startedAt,
      version: options.version,
      sessions: new DashboardSessions(),
      onStop: stop,
    });
    const info: DaemonInfo = {
      pid: process.pid,
      port: listening.port,
      token,
      startedAt,
      version: options.version,
    };
    await writeDaemonInfo(options.dataDir, info);
    logger.info({ port: listening.port, dataDir: options.dataDir }, 'daemon started');
    options.onReady?.({ ...info, url: `http://127.0.0.1:${listening.port}` });
    await tray.apply(service.settings.tray.enabled);

    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    options.signal?.addEventListener('abort', stop, { once: true });
    const running = service.run();
    await new Promise<void>((resolve) =>
      stopRequested.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    logger.info('daemon stopping');
    const trayStopped = tray.stop();
    // Past the deadline the process goes anyway: the data is safe at any point (atomic writes).
    const deadline = setTimeout(() => {
      logger.warn('stop took longer than 5 s; exiting');
      void closeLog().finally(() => process.exit(0));
    }, STOP_DEADLINE_MS);
    deadline.unref();
    // Event-stream clients hold connections open: close them so the server can close.
    (server as unknown as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.();
    server?.close();
    await service.close();
    await running.catch(() => {});
    await trayStopped;
    clearTimeout(deadline);
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    unsubscribe();
    unsubscribeTray();
    await tray.stop();
    server?.close();
    await service.close().catch(() => {});
    await removeDaemonInfo(options.dataDir);
    logger.info('daemon stopped');
    await closeLog();
  }
}
