import { Presets, SingleBar } from 'cli-progress';

/** A `label [bar] done/total` progress bar on a terminal; does nothing when stderr is not a TTY. */
export function createCountProgress(label: string): {
  update(done: number, total: number): void;
  stop(): void;
} {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar(
    { format: `${label} [{bar}] {value}/{total}`, stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  let shown = false;
  return {
    update(done, total) {
      if (!shown) {
        bar.start(total, done);
        shown = true;
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop() {
      if (shown) bar.stop();
    },
  };
}
