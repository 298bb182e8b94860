import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import { isProcessAlive } from '../util/process-alive.js';

/** `<data dir>/daemon.json` (mode 0600): how the faces find and authenticate to a running daemon. */
export interface DaemonInfo {
  pid: number;
  port: number;
  /** Bearer token of the control API: 32 random bytes, hex. */
  token: string;
  /** ISO 8601 UTC. */
  startedAt: string;
  version: string;
}

export function daemonFile(dataDir: string): string {
  return join(dataDir, 'daemon.json');
}

/** A fresh API token (256 bits). */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Writes `daemon.json` readable by the user only (it holds the API token). */
export async function writeDaemonInfo(dataDir: string, info: DaemonInfo): Promise<void> {
  await writeFileAtomic(daemonFile(dataDir), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

export async function removeDaemonInfo(dataDir: string, pid = process.pid): Promise<void> {
  const current = await readDaemonInfo(dataDir);
  if (current?.pid === pid) await rm(daemonFile(dataDir), { force: true });
}

/** The file's content, or undefined when absent or unreadable. */
export async function readDaemonInfo(dataDir: string): Promise<DaemonInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(daemonFile(dataDir), 'utf8')) as DaemonInfo;
    if (typeof info.pid !== 'number' || typeof info.port !== 'number' || typeof info.token !== 'string') {
      return undefined;
    }
    return info;
  } catch {
    return undefined;
  }
}

/** The running daemon of a data folder: its `daemon.json` when its process is alive. */
export async function findDaemon(dataDir: string): Promise<DaemonInfo | undefined> {
  const info = await readDaemonInfo(dataDir);
  return info && isProcessAlive(info.pid) ? info : undefined;
}
