import { versionStamp } from '../store/index.js';

/** The original app's snapshot names: `<UTC %Y-%m-%d_%H-%M-%S.mmm>.zip`. */
const NAME = /^(\d{4})-(\d{2})-(\d{2})_(\d{2})-(\d{2})-(\d{2})\.(\d{3})\.zip$/;

export function snapshotName(date: Date): string {
  return `${versionStamp(date)}.zip`;
}

/** The creation time encoded in a snapshot's file name, or undefined for other files. */
export function snapshotTime(name: string): Date | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
