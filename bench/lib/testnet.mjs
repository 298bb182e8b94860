// The benchmarks' testnet: bench/testnet-server.mjs in a child process of its own.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BENCH = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * Starts the testnet (folder storage under `dataDir`) and waits for its ready line; `track` gets
 * the child first (so a Ctrl-C cleans it up). Returns `{child, ...ready line}` (`homeserver`,
 * `homeserverKey`, `relay`, …).
 */
export async function startTestnetServer(dataDir, track = (child) => child) {
  const child = track(
    fork(join(BENCH, 'testnet-server.mjs'), [dataDir], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] }),
  );
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`testnet server exited (${code}) before it was ready`)));
  });
  lines.close();
  child.stdout.resume();
  return { child, ...JSON.parse(first) };
}
