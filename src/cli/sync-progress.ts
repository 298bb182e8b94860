import { Presets, SingleBar } from 'cli-progress';
import { type EventLog, formatBytes } from '../app/index.js';

/**
 * A progress bar on a terminal (files, bytes, rate) following the service's `SyncProgress`
 * events; nothing when stderr is not a TTY.
 */
export function createSyncProgress(events: EventLog): { stop(): void } {
  if (!process.stderr.isTTY) return { stop() {} };
  const bar = new SingleBar(
    {
      format: 'syncing [{bar}] {value}/{total} files | {bytes} | {rate}/s',
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const perKey = new Map<string, { done: number; total: number; bytes: number }>();
  const started = Date.now();
  let shown = false;
  const unsubscribe = events.subscribe((event) => {
    if (event.type !== 'SyncProgress') return;
    const data = event.data as { pubky: string; done: number; total: number; bytes: number };
    perKey.set(data.pubky, { done: data.done, total: data.total, bytes: data.bytes });
    let done = 0;
    let total = 0;
    let bytes = 0;
    for (const p of perKey.values()) {
      done += p.done;
      total += p.total;
      bytes += p.bytes;
    }
    const payload = {
      bytes: formatBytes(bytes),
      rate: formatBytes(bytes / Math.max(0.001, (Date.now() - started) / 1000)),
    };
    if (!shown) {
      bar.start(total, done, payload);
      shown = true;
    } else {
      bar.setTotal(total);
      bar.update(done, payload);
    }
  });
  return {
    stop() {
      unsubscribe();
      if (shown) bar.stop();
    },
  };
}
