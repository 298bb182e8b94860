import { spawn } from 'node:child_process';
import { DaemonClient } from '../daemon/client.js';
import { BackupError } from '../errors.js';
import type { CliContext } from './context.js';

/** How long a starting daemon may take to answer (it opens the data folder and the resolver first). */
const START_TIMEOUT_MS = 15_000;

/**
 * The daemon of the data folder: the running one, or one started now in the background (detached,
 * with this command's data folder and PKDNS options) — as a user who opens the dashboard expects.
 * Errors: the daemon's own first error line when it could not start (`ALREADY_RUNNING` when a
 * `sync` holds the folder, `PORT_IN_USE`…), `DAEMON_START_TIMEOUT`.
 */
export async function ensureDaemon(context: CliContext): Promise<{ client: DaemonClient; started: boolean }> {
  const dataDir = context.dataDir();
  const running = await DaemonClient.connect(dataDir);
  if (running) return { client: running, started: false };
  const flags = context.pkdnsFlags();
  const args = [
    ...process.execArgv,
    process.argv[1] as string,
    '--json',
    '--data-dir',
    dataDir,
    ...(flags.relay ?? []).flatMap((relay) => ['--relay', relay]),
    ...(flags.dht === false ? ['--no-dht'] : []),
    ...(flags.dhtBootstrap ?? []).flatMap((node) => ['--dht-bootstrap', node]),
    'daemon',
  ];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    while (Date.now() < deadline) {
      const code = await Promise.race([
        exited,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)),
      ]);
      if (code !== undefined) throw startFailure(output, code);
      const client = await DaemonClient.connect(dataDir);
      if (client) return { client, started: true };
    }
    throw new BackupError(
      'DAEMON_START_TIMEOUT',
      `The daemon did not answer within ${START_TIMEOUT_MS / 1000} s; see "pubky-backup logs".`,
      'unavailable',
    );
  } finally {
    // It runs on by itself: this process neither waits for it nor keeps its output.
    child.stdout.destroy();
    child.stderr.destroy();
    child.unref();
  }
}

/** The daemon's own error (its `--json` error line), or what it printed. */
function startFailure(output: string, code: number | null): BackupError {
  for (const line of output.split('\n').reverse()) {
    try {
      const parsed = JSON.parse(line) as {
        error?: { code: string; message: string; details?: Record<string, unknown> };
      };
      if (parsed.error)
        return new BackupError(
          parsed.error.code,
          parsed.error.message,
          'unavailable',
          parsed.error.details ?? {},
        );
    } catch {
      // not a JSON line
    }
  }
  return new BackupError(
    'DAEMON_START_FAILED',
    `The daemon exited (code ${code}) before answering: ${output.trim() || 'no output'}`,
    'unavailable',
  );
}
