import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type KeyLayout, versionStamp } from '../store/index.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { RemoteVerifyReport } from './remote-verify.js';

/** How many reports `keys/<z32>/state/verify/` keeps (the oldest go first). */
export const KEPT_VERIFY_REPORTS = 10;

const REPORT_NAME = /^\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.\d{3}(-\d+)?\.json$/;

/** What `status` shows of the last verify: no per-file findings. */
export interface VerifySummary {
  checkedAt: string;
  homeserver: string;
  outcome: RemoteVerifyReport['outcome'];
  readData: boolean;
  counts: RemoteVerifyReport['counts'];
  cursorBehind: boolean;
  file: string;
}

function verifyDir(layout: KeyLayout): string {
  return join(layout.stateDir, 'verify');
}

/**
 * Keeps a verify report as `keys/<z32>/state/verify/<UTC YYYY-MM-DD_HH-MM-SS.mmm>.json` (written
 * atomically) and removes all but the newest `KEPT_VERIFY_REPORTS`. Returns the file.
 */
export async function saveVerifyReport(layout: KeyLayout, report: RemoteVerifyReport): Promise<string> {
  const dir = verifyDir(layout);
  await mkdir(dir, { recursive: true });
  const stamp = versionStamp(new Date(report.checkedAt));
  const existing = new Set(await reportNames(dir));
  let name = `${stamp}.json`;
  for (let n = 2; existing.has(name); n++) name = `${stamp}-${n}.json`;
  const file = join(dir, name);
  await writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`);
  const names = await reportNames(dir);
  for (const old of names.slice(0, Math.max(0, names.length - KEPT_VERIFY_REPORTS))) {
    await rm(join(dir, old), { force: true });
  }
  return file;
}

/** The newest kept report in short, or undefined when there is none (or it cannot be read). */
export async function latestVerifySummary(layout: KeyLayout): Promise<VerifySummary | undefined> {
  const dir = verifyDir(layout);
  const newest = (await reportNames(dir)).at(-1);
  if (!newest) return undefined;
  try {
    const report = JSON.parse(await readFile(join(dir, newest), 'utf8')) as RemoteVerifyReport;
    return {
      checkedAt: report.checkedAt,
      homeserver: report.homeserver,
      outcome: report.outcome,
      readData: report.readData,
      counts: report.counts,
      cursorBehind: report.cursor?.behind ?? false,
      file: join(dir, newest),
    };
  } catch {
    return undefined;
  }
}

/** Report file names, oldest first (the names sort by time). */
async function reportNames(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => REPORT_NAME.test(name)).sort(byTime);
}

function byTime(a: string, b: string): number {
  const key = (name: string) => {
    const m = /^(.*?)(?:-(\d+))?\.json$/.exec(name) as RegExpExecArray;
    return [m[1] as string, Number(m[2] ?? 1)] as const;
  };
  const [ta, na] = key(a);
  const [tb, nb] = key(b);
  return ta < tb ? -1 : ta > tb ? 1 : na - nb;
}
