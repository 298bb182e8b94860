import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FileIndex,
  KeyLayout,
  RetryQueue,
  readCursor,
  storePathOf,
  writeKeyConfig,
} from '../../src/store/index.js';
import type { Homeserver } from '../../src/testnet/homeserver/index.js';
import { BIN } from '../helpers/cli.js';
import { blake3Base64, put, type TestUser, tenantFetch } from '../helpers/homeserver.js';

/** `npm run reliability` sets RELIABILITY_FULL=1: the long drills; `npm test` runs reduced ones. */
export const FULL = process.env.RELIABILITY_FULL === '1';

/** Prints a figure line (collected into RELIABILITY.md from the full run). */
export function figure(line: string): void {
  process.stdout.write(`RELIABILITY ${line}\n`);
}

/** A backup folder for `user`, pinned to `hs` (no PKDNS). */
export async function backupFolder(hs: Homeserver, user: TestUser): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pubky-reliability-'));
  const layout = new KeyLayout(dataDir, user.z32);
  await mkdir(layout.stateDir, { recursive: true });
  await writeKeyConfig(layout.keyConfigFile, {
    pubky: user.z32,
    addedAt: new Date().toISOString(),
    homeserverUrl: hs.url,
  });
  return dataDir;
}

/** Puts `count` files of random bytes (sizes between min and max) under `/pub/r/`. */
export async function seed(hs: Homeserver, user: TestUser, count: number, min: number, max: number) {
  const paths: string[] = [];
  for (let i = 0; i < count; i += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, count - i) }, async (_, j) => {
        const path = `/pub/r/${Math.floor((i + j) / 100)}/f${i + j}.bin`;
        await put(hs, user, path, randomBytes(min + Math.floor(Math.random() * (max - min))));
        paths.push(path);
      }),
    );
  }
  return paths;
}

const ENV = { ...process.env, PUBKY_RELAYS: '', PUBKY_BACKUP_HOME: '' };

/** Starts the CLI (`sync --once` by default) as a child process. */
export function startCli(
  dataDir: string,
  args: string[] = ['sync', '--once'],
): ChildProcess & { done: Promise<CliExit> } {
  const child = spawn(process.execPath, [BIN, '--data-dir', dataDir, ...args], { env: ENV });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<CliExit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return Object.assign(child, { done });
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `sync --once`, killing it with SIGKILL after `ms` unless it finished; says which. */
export async function syncKilledAfter(dataDir: string, ms: number): Promise<CliExit & { killed: boolean }> {
  const child = startCli(dataDir);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const exit = await child.done;
  clearTimeout(timer);
  return { ...exit, killed: exit.signal === 'SIGKILL' };
}

/**
 * The two invariants a kill must never break: every indexed file holds the bytes the index
 * records (no corrupt byte in `data/`), and the cursor is never ahead of the data — every file
 * whose last event at or below the cursor is a PUT is on disk or waits in the retry queue.
 * Returns the violations (empty = fine).
 */
export async function invariantViolations(
  dataDir: string,
  hs: Homeserver,
  user: TestUser,
): Promise<string[]> {
  const layout = new KeyLayout(dataDir, user.z32);
  const problems: string[] = [];
  const index = await FileIndex.open(layout.indexFile);
  for (const entry of index.entries()) {
    const file = join(layout.keyDir, await actualPath(layout.keyDir, entry.path));
    if (!existsSync(file)) continue; // a later DEL applied in a batch the cursor has not passed
    const bytes = await readFile(file);
    if ((await blake3Base64(bytes)) !== entry.blake3 && bytes.length === entry.size) {
      problems.push(`${entry.path}: bytes differ from the index`);
    }
  }
  const cursor = BigInt(await readCursor(layout.cursorFile));
  const retry = await RetryQueue.open(layout.retryFile);
  const last = new Map<string, 'PUT' | 'DEL'>();
  for (const event of hs.state.eventsOf(user.z32))
    if (BigInt(event.id) <= cursor) last.set(event.path, event.type);
  for (const [path, type] of last) {
    if (type !== 'PUT' || retry.get(path)) continue;
    if (!existsSync(join(layout.keyDir, await actualPath(layout.keyDir, path)))) {
      problems.push(`${path}: PUT at or below cursor ${cursor}, but not on disk nor queued`);
    }
  }
  return problems;
}

async function actualPath(keyDir: string, path: string): Promise<string> {
  const stored = storePathOf(path.slice(1).split('/'));
  const self = `${stored}/%2E`;
  return existsSync(join(keyDir, self)) ? self : stored;
}

/** True when the backup holds exactly the homeserver's files, byte for byte. */
export async function identicalToHomeserver(
  dataDir: string,
  hs: Homeserver,
  user: TestUser,
): Promise<string[]> {
  const layout = new KeyLayout(dataDir, user.z32);
  const differences: string[] = [];
  const remote = new Map<string, string>();
  const files = hs.state.filesOf(user.z32);
  for (const path of files.withPrefix('/pub/')) remote.set(path, (files.get(path) as { hash: string }).hash);
  const local = await listFiles(join(layout.keyDir, 'data'));
  for (const [path, hash] of remote) {
    const file = join(layout.keyDir, await actualPath(layout.keyDir, path));
    if (!existsSync(file)) differences.push(`missing ${path}`);
    else if ((await blake3Base64(await readFile(file))) !== hash) differences.push(`differs ${path}`);
  }
  if (local.length !== remote.size)
    differences.push(`${local.length} local files, ${remote.size} on the homeserver`);
  return differences;
}

/**
 * Versions whose bytes equal the next copy of the same file (the next version, or the current
 * file): the duplicates an interrupted backup must never make.
 */
export async function duplicateVersions(dataDir: string, user: TestUser): Promise<string[]> {
  const keyDir = new KeyLayout(dataDir, user.z32).keyDir;
  const versions = await listFiles(join(keyDir, 'versions'));
  const byFile = new Map<string, string[]>();
  for (const version of versions) {
    const base = version.replace(/~\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.\d{3}(-\d+)?$/, '');
    byFile.set(base, [...(byFile.get(base) ?? []), version]);
  }
  const duplicates: string[] = [];
  for (const [base, list] of byFile) {
    list.sort();
    const chain = [...list.map((v) => join(keyDir, 'versions', v)), join(keyDir, 'data', base)];
    for (let i = 0; i + 1 < chain.length; i++) {
      const next = chain[i + 1] as string;
      if (!existsSync(next)) continue;
      if ((await readFile(chain[i] as string)).equals(await readFile(next)))
        duplicates.push(list[i] as string);
    }
  }
  return duplicates;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out;
}

/** Writes and deletes files of `user` until stopped: the homeserver changing during the drills. */
export function churn(hs: Homeserver, user: TestUser, paths: string[]): { stop(): Promise<number> } {
  let running = true;
  let changes = 0;
  const loop = (async () => {
    while (running) {
      const path = paths[Math.floor(Math.random() * paths.length)] as string;
      const roll = Math.random();
      if (roll < 0.15) {
        const response = await tenantFetch(hs, user, path, { method: 'DELETE' });
        await response.arrayBuffer();
      } else {
        await put(
          hs,
          user,
          roll < 0.3 ? `${path}.new${changes}` : path,
          randomBytes(1000 + Math.floor(Math.random() * 20_000)),
        );
      }
      changes++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return changes;
    },
  };
}
