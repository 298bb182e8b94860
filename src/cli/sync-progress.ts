import { Presets, SingleBar } from 'cli-progress';
import type { SyncManager } from '../sync/index.js';
import { formatBytes } from './key-summary.js';

/** A progress bar on a terminal (files, bytes, rate); nothing when stderr is not a TTY. */
export function createSyncProgress(manager: SyncManager): { stop(): void } {
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
  manager.on('progress', (pubky, progress) => {
    perKey.set(pubky, progress);
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
      if (shown) bar.stop();
    },
  };
}
