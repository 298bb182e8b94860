import { type Command, InvalidArgumentError } from 'commander';
import { DaemonClient } from '../../daemon/client.js';
import { readDaemonInfo } from '../../daemon/daemon-file.js';
import { BackupError } from '../../errors.js';
import { isProcessAlive } from '../../util/process-alive.js';
import type { CliContext } from '../context.js';
import { toolVersion } from '../tool-version.js';

export function registerDaemon(program: Command, context: CliContext): void {
  const daemon = program
    .command('daemon')
    .description('run the background service in the foreground (for service managers); stop; status')
    .option(
      '--port <port>',
      'control API port on 127.0.0.1 (default: daemon.port of the config; 0 = any)',
      port,
    )
    .action(async (options: { port?: number }) => {
      const json = context.output().json;
      // Loaded only here: the API server and the logger are not needed by other commands.
      const { runDaemon } = await import('../../daemon/daemon.js');
      await runDaemon({
        dataDir: context.dataDir(),
        pkdns: context.pkdnsFlags(),
        tool: context.tool(),
        version: toolVersion(),
        port: options.port,
        onReady: (info) => {
          const line = json
            ? JSON.stringify({ ok: true, pid: info.pid, port: info.port, url: info.url })
            : `daemon running (pid ${info.pid}); control API ${info.url}/api/v1; press Ctrl-C to stop`;
          process.stdout.write(`${line}\n`);
        },
      });
    });

  daemon
    .command('stop')
    .description('stop the running daemon (it finishes writing first)')
    .action(async () => {
      const dataDir = context.dataDir();
      const client = await DaemonClient.connect(dataDir);
      if (!client)
        throw new BackupError('NOT_RUNNING', 'No daemon is running on this data folder.', 'conflict');
      await client.request('POST', '/daemon/stop').catch(() => process.kill(client.info.pid, 'SIGTERM'));
      const deadline = Date.now() + 10_000;
      while (isProcessAlive(client.info.pid) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      if (isProcessAlive(client.info.pid)) {
        throw new BackupError(
          'STOP_TIMEOUT',
          `The daemon (pid ${client.info.pid}) did not stop within 10 s.`,
          'unavailable',
        );
      }
      context
        .output()
        .result({ stopped: true, pid: client.info.pid }, `daemon stopped (pid ${client.info.pid})`);
    });

  daemon
    .command('status')
    .description('whether a daemon runs on this data folder, and its pubkys')
    .action(async () => {
      const dataDir = context.dataDir();
      const client = await DaemonClient.connect(dataDir);
      if (!client) {
        const stale = await readDaemonInfo(dataDir);
        context
          .output()
          .result(
            { running: false },
            stale
              ? `not running (daemon.json of pid ${stale.pid} is left from a process that is gone)`
              : 'not running',
            1,
          );
        return;
      }
      const status = await client.request<{
        daemon: Record<string, unknown>;
        keys: Array<{ pubky: string; live: { state: string } | null }>;
      }>('GET', '/status');
      context
        .output()
        .result(
          { running: true, ...status },
          [
            `running: pid ${client.info.pid}, since ${client.info.startedAt}, control API http://127.0.0.1:${client.info.port}/api/v1`,
            ...status.keys.map((k) => `  ${k.pubky}  ${k.live?.state ?? 'stopped'}`),
          ].join('\n'),
        );
    });
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535)
    throw new InvalidArgumentError('a port is a number from 0 to 65535');
  return n;
}
