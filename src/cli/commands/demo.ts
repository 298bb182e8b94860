import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BackupService, formatBytes } from '../../app/index.js';
import { demoKeypair, demoPut, demoSession, seedDemo } from '../../testnet/demo.js';
import { startTestnet, type Testnet } from '../../testnet/testnet.js';
import type { CliContext } from '../context.js';
import { createSyncProgress } from '../sync-progress.js';

export function registerDemo(program: Command, context: CliContext): void {
  program
    .command('demo')
    .description('offline demo: a local testnet with demo users, backed up end to end, then a live update')
    .option('--keep', 'keep running (live sync) until Ctrl-C instead of exiting')
    .action(async (options: { keep?: boolean }) => {
      const explicit = program.opts<{ dataDir?: string }>().dataDir;
      const dataDir = explicit ? context.dataDir() : await mkdtemp(join(tmpdir(), 'pubky-backup-demo-'));
      const say = (line: string) => process.stderr.write(`${line}\n`);
      const testnet = await startTestnet({ relayPort: 0, homeserverPort: 0 });
      let service: BackupService | undefined;
      try {
        say(`1. local testnet: pkarr relay ${testnet.relay.url}, homeserver ${testnet.homeserver.url}`);
        const users = await seedDemo(testnet);
        say(`2. ${users.length} demo users published ${users.reduce((n, u) => n + u.files, 0)} files`);
        service = await BackupService.open({
          dataDir,
          pkdns: { relay: [testnet.relay.url], dht: false },
          command: 'demo',
          tool: context.tool(),
        });
        for (const user of users) await service.add(user.pubky);
        say(`3. added them to the backup in ${dataDir} (homeserver found through PKDNS)`);
        const progress = createSyncProgress(service.events);
        const reports = await service.syncNow().finally(() => progress.stop());
        for (const report of reports) {
          if ('error' in report) throw report.error;
          const name = users.find((u) => u.pubky === report.pubky)?.name;
          say(
            `4. ${name}: ${report.stored} files (${formatBytes(report.bytes)}) → ${join(dataDir, 'keys', report.pubky, 'data')}`,
          );
        }
        const running = service.run();
        const alice = users[0] as (typeof users)[number];
        const latency = await writeAndWait(testnet, dataDir);
        say(`5. live: a new post by ${alice.name} reached the backup ${latency} ms after it was written`);
        context.output().result(
          {
            dataDir,
            relay: testnet.relay.url,
            homeserver: testnet.homeserver.url,
            users,
            liveLatencyMs: latency,
          },
          `demo backup in ${dataDir}\ntry: ls -R ${join(dataDir, 'keys', alice.pubky, 'data', 'pub')}`,
        );
        if (options.keep) {
          say('live sync keeps running; press Ctrl-C to stop');
          const stop = () => void service?.close();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          await running;
        }
      } finally {
        await service?.close();
        await testnet.close();
      }
    });
}

/** Writes a post as demo user Alice and waits until the backup holds it; returns the delay in ms. */
async function writeAndWait(testnet: Testnet, dataDir: string): Promise<number> {
  const keypair = demoKeypair(0);
  const cookie = await demoSession(testnet, keypair);
  const path = `/pub/pubky.app/posts/DEMO${Date.now()}`;
  const started = performance.now();
  const body = new TextEncoder().encode(
    JSON.stringify({ content: 'Written while the backup was running.', kind: 'short' }),
  );
  await demoPut(testnet, keypair.publicKey.z32, cookie, { path, body, contentType: 'application/json' });
  const file = join(dataDir, 'keys', keypair.publicKey.z32, 'data', path);
  while (!existsSync(file)) {
    if (performance.now() - started > 30_000) throw new Error('the live update did not arrive within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Math.round(performance.now() - started);
}
