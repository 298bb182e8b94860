import { checkTrayLibraries, prepareTrayBinary } from './binary.js';
import { openExternal } from './dashboard.js';
import { SysTrayHost } from './host.js';
import { desktopNotifier } from './notifier.js';
import { TrayApp, type TrayEnd } from './tray-app.js';

export interface RunTrayOptions {
  dataDir: string;
  /** Told once the icon is shown. */
  onReady?: () => void;
  /** Lines for people: what the tray does, what failed. */
  log?: (line: string) => void;
}

/**
 * `pubky-backup tray`: the icon for the daemon of `dataDir`, until Quit, SIGTERM/SIGINT, or the
 * process that started it going away (the daemon starts it with an IPC channel). `TRAY_UNAVAILABLE`
 * (one line, no crash) when the tray program or its libraries are missing.
 */
export async function runTray(options: RunTrayOptions): Promise<TrayEnd> {
  const binary = await prepareTrayBinary();
  await checkTrayLibraries(binary);
  const stop = new AbortController();
  const onStop = () => stop.abort();
  process.once('SIGTERM', onStop);
  process.once('SIGINT', onStop);
  // Started by the daemon: it dies with it (the IPC channel closes even after a kill -9).
  if (process.connected) process.once('disconnect', onStop);
  try {
    const app = new TrayApp({
      dataDir: options.dataDir,
      host: new SysTrayHost(binary),
      notify: desktopNotifier(options.log),
      open: openExternal,
      log: options.log,
      onStarted: options.onReady,
    });
    return await app.run(stop.signal);
  } finally {
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('disconnect', onStop);
  }
}
