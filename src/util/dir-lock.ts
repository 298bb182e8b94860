import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BackupError } from '../errors.js';
import { writeFileAtomic } from './atomic-file.js';
import { isProcessAlive } from './process-alive.js';
import { sleep } from './sleep.js';

/** Who holds a lock: written inside the lock folder right after it is created. */
export interface LockOwner {
  pid: number;
  host: string;
  /** What holds it, for messages: `sync --once`, `snapshot create`… */
  command: string;
  /** ISO 8601 UTC. */
  since: string;
  /** The holder's process start time as the kernel counts it (Linux), to tell a reused pid. */
  processStart?: number;
  /** Unique per acquisition: a release never removes a lock someone else took over. */
  token: string;
}

export interface HeldLock {
  readonly owner: LockOwner;
  /** Stops the heartbeat and removes the lock, unless it was taken over meanwhile. Idempotent. */
  release(): Promise<void>;
}

export interface LockTiming {
  /** A live holder refreshes the folder's mtime this often (ms). */
  heartbeatMs: number;
  /** Without a heartbeat for this long a lock is stale, whoever it names (ms). */
  staleMs: number;
  /** A lock folder with no readable owner this old is stale (a crash between mkdir and write). */
  ownerlessMs: number;
}

const DEFAULT_TIMING: LockTiming = { heartbeatMs: 2_000, staleMs: 20_000, ownerlessMs: 5_000 };
const OWNER_FILE = 'owner.json';

/**
 * A cross-process lock that cannot wedge and cannot be shared. It is a folder: `mkdir` is atomic,
 * so of two processes starting at the same moment exactly one gets it. The holder writes its
 * owner (pid, host, process start time, a token) inside and keeps the folder's mtime fresh. A lock
 * is stale — and taken over — when its owner is a process of this host that is gone (or a
 * different process under a reused pid), when it has no readable owner for 5 s (a crash or a full
 * disk between `mkdir` and the owner write), or when its heartbeat stopped for 20 s. Takeover goes
 * through a second, short-lived lock folder (`<path>.takeover`) and re-checks the owner under it, so
 * two processes never both break the same lock; holding still only ever comes from `mkdir`.
 * Returns `undefined` and the current owner (if known) when the lock is held by someone else.
 */
export async function tryLock(
  path: string,
  command: string,
  timing: LockTiming = DEFAULT_TIMING,
): Promise<{ lock: HeldLock } | { lock: undefined; owner?: LockOwner }> {
  const lock = await create(path, command, timing);
  if (lock) return { lock };
  const seen = await inspect(path);
  if (!seen) return tryLockOnce(path, command, timing); // released meanwhile
  if (!isStale(seen, timing)) return { lock: undefined, owner: seen.owner };
  if (!(await takeOver(path, seen, timing))) return { lock: undefined, owner: seen.owner };
  return tryLockOnce(path, command, timing);
}

async function tryLockOnce(path: string, command: string, timing: LockTiming) {
  const lock = await create(path, command, timing);
  return lock ? { lock } : { lock: undefined, owner: (await inspect(path))?.owner };
}

/**
 * Waits for the lock (polling every 100 ms), calling `onWait` once with who holds it so the
 * caller can say what it waits for. Throws `LockTimeoutError` after `timeoutMs`, or the signal's
 * reason when it aborts.
 */
export async function acquireLock(
  path: string,
  command: string,
  options: {
    timeoutMs?: number;
    signal?: AbortSignal;
    onWait?: (owner: LockOwner | undefined) => void;
    timing?: LockTiming;
  } = {},
): Promise<HeldLock> {
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const attempt = await tryLock(path, command, options.timing);
    if (attempt.lock) return attempt.lock;
    if (!told) {
      told = true;
      options.onWait?.(attempt.owner);
    }
    if (Date.now() > deadline) throw new LockTimeoutError(path, attempt.owner);
    await sleep(100, options.signal);
  }
}

/** The lock stayed held by a live owner for longer than the caller would wait. */
export class LockTimeoutError extends BackupError {
  override readonly name = 'LockTimeoutError';
  constructor(
    readonly path: string,
    readonly owner: LockOwner | undefined,
  ) {
    super('LOCK_TIMEOUT', `${path} stayed locked by ${describeOwner(owner)} for too long.`, 'conflict', {
      pid: owner?.pid ?? null,
    });
  }
}

/** "process 1234 (sync --once) since 2026-…" — for messages. */
export function describeOwner(owner: LockOwner | undefined): string {
  return owner ? `process ${owner.pid} (${owner.command}) since ${owner.since}` : 'another process';
}

async function create(path: string, command: string, timing: LockTiming): Promise<HeldLock | undefined> {
  try {
    await mkdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    command,
    since: new Date().toISOString(),
    ...(ownStart !== undefined && { processStart: ownStart }),
    token: randomBytes(8).toString('hex'),
  };
  try {
    await writeFileAtomic(join(path, OWNER_FILE), JSON.stringify(owner));
  } catch (error) {
    await rm(path, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => {});
  }, timing.heartbeatMs);
  heartbeat.unref();
  let released = false;
  return {
    owner,
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      const current = await inspect(path);
      if (current?.owner?.token === owner.token) await rm(path, { recursive: true, force: true });
    },
  };
}

interface Seen {
  owner?: LockOwner;
  ageMs: number;
}

async function inspect(path: string): Promise<Seen | undefined> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
  let owner: LockOwner | undefined;
  try {
    const value = JSON.parse(await readFile(join(path, OWNER_FILE), 'utf8')) as LockOwner;
    if (typeof value.pid === 'number' && typeof value.token === 'string') owner = value;
  } catch {
    // no owner (yet, or ever): judged by age
  }
  return { owner, ageMs: Date.now() - mtimeMs };
}

function isStale(seen: Seen, timing: LockTiming): boolean {
  if (seen.ageMs > timing.staleMs) return true;
  if (!seen.owner) return seen.ageMs > timing.ownerlessMs;
  if (seen.owner.host !== hostname()) return false; // another machine: only its heartbeat tells
  if (!isProcessAlive(seen.owner.pid)) return true;
  const start = processStartTime(seen.owner.pid);
  return seen.owner.processStart !== undefined && start !== undefined && start !== seen.owner.processStart;
}

/** Removes a stale lock, under `<path>.takeover`, only if it is still the one judged stale. */
async function takeOver(path: string, judged: Seen, timing: LockTiming): Promise<boolean> {
  const guard = `${path}.takeover`;
  try {
    await mkdir(guard);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A taker that died holding the guard: the guard is only ever held for milliseconds.
    const age = await stat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > timing.ownerlessMs) await rm(guard, { recursive: true, force: true });
    return false;
  }
  try {
    const now = await inspect(path);
    if (!now) return true;
    if (now.owner?.token !== judged.owner?.token || !isStale(now, timing)) return false;
    await rm(path, { recursive: true, force: true });
    return true;
  } finally {
    await rm(guard, { recursive: true, force: true });
  }
}

/** Start time of a process in clock ticks since boot (Linux `/proc/<pid>/stat` field 22). */
function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

const ownStart = processStartTime(process.pid);
