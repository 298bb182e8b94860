import { Presets, SingleBar } from 'cli-progress';
import { formatBytes } from '../app/index.js';
import type { RestoreProgress } from '../restore/index.js';

/** `restoring [bar] done/total files | bytes | rate/s` on a terminal; nothing when stderr is not one. */
export function createRestoreProgress(label: string): { update(p: RestoreProgress): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} files | {bytes} of {totalBytes} | {rate}/s`,
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const started = Date.now();
  let shown = false;
  let last = 0;
  return {
    update(p) {
      const now = Date.now();
      if (shown && now - last < 100 && p.done < p.total) return;
      last = now;
      const payload = {
        bytes: formatBytes(p.bytes),
        totalBytes: formatBytes(p.totalBytes),
        rate: formatBytes(p.bytes / Math.max(0.001, (now - started) / 1000)),
      };
      if (!shown) {
        bar.start(p.total, p.done, payload);
        shown = true;
      } else bar.update(p.done, payload);
    },
    stop() {
      if (shown) bar.stop();
    },
  };
}
