import { DaemonClient } from '../../src/daemon/client.js';
import { type DaemonInfo, runDaemon } from '../../src/daemon/index.js';
import { startCli } from '../reliability/harness.js';

/**
 * Starts `pubky-backup daemon --port 0` as a child process (the built CLI, as a user runs it) with
 * the given global flags and waits for its ready line; `ready` is that line's JSON, `client` talks
 * to its API. Kill `child` (SIGTERM) and await `child.done` to end it.
 */
export async function startDaemonProcess(dataDir: string, flags: string[]) {
  const child = startCli(dataDir, [...flags, '--json', 'daemon', '--port', '0']);
  const ready = await new Promise<{ pid: number; port: number; url: string }>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk) => {
      buffer += chunk;
      const line = buffer.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.done.then((exit) => reject(new Error(`daemon exited: ${exit.code} ${exit.stderr}`)));
  });
  const client = await DaemonClient.connect(dataDir);
  if (!client) throw new Error(`daemon ${ready.pid} is ready but wrote no daemon.json`);
  return { child, ready, client };
}

/**
 * Runs the daemon in this process on `dataDir` (port 0, PKDNS through `relay` only) and waits
 * until it listens; `stop()` ends it and waits for it, `done` settles when it has ended.
 */
export async function runDaemonHere(dataDir: string, relay: string) {
  const stop = new AbortController();
  let done: Promise<void> = Promise.resolve();
  const info = await new Promise<DaemonInfo & { url: string }>((resolve, reject) => {
    done = runDaemon({
      dataDir,
      pkdns: { relay: [relay], dht: false },
      tool: 'pubky-backup test',
      version: 'test',
      port: 0,
      signal: stop.signal,
      onReady: resolve,
    });
    done.catch(reject);
  });
  return {
    info,
    done,
    stop: async () => {
      stop.abort();
      await done;
    },
  };
}
