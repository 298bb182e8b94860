import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-file.js';

/**
 * `state/last-run.json`: how the last catch-up of a key ended, so `status` (and the daemon after a
 * restart) can say "waiting for the user", "homeserver unreachable since …" without a network call.
 */
export interface LastRun {
  /** ISO 8601 UTC. */
  finishedAt: string;
  outcome: 'ok' | 'waiting' | 'paused' | 'error';
  /** Feed entries set aside as unreadable in that run. */
  skipped: number;
  /** For `error`: what failed, and since when it has failed run after run (ISO 8601 UTC). */
  error?: { code: string; message: string; since: string };
}

/** The record, or undefined when there is none or it cannot be read (it is only informative). */
export async function readLastRun(file: string): Promise<LastRun | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as LastRun;
    return typeof value.finishedAt === 'string' && typeof value.outcome === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records a finished run (written atomically but without fsync: the record is only informative,
 * and a crash at worst shows the run before). An error with the same code as the previous run's keeps that run's
 * `since`, so a long outage reads "since" its first failure.
 */
export async function writeLastRun(
  file: string,
  run: Omit<LastRun, 'error'> & { error?: { code: string; message: string } },
): Promise<void> {
  let record: LastRun = { ...run, error: undefined };
  if (run.error) {
    const previous = await readLastRun(file);
    const since =
      previous?.outcome === 'error' && previous.error?.code === run.error.code
        ? previous.error.since
        : run.finishedAt;
    record = { ...run, error: { ...run.error, since } };
  }
  await writeFileAtomic(file, `${JSON.stringify(record)}\n`, { durable: false });
}
