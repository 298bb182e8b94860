import { type Command, InvalidArgumentError } from 'commander';
import { seedDemo } from '../../testnet/demo.js';
import { startTestnet, TESTNET_HOMESERVER_PORT, TESTNET_RELAY_PORT } from '../../testnet/testnet.js';
import type { CliContext } from '../context.js';

export function registerTestnet(program: Command, context: CliContext): void {
  program
    .command('testnet')
    .description('run a local Pubky testnet (pkarr relay + homeserver) on this machine until Ctrl-C')
    .option('--demo', 'seed demo users with pubky.app-style data and print their pubkys')
    .option('--relay-port <port>', 'pkarr relay port (0 = any free port)', parsePort, TESTNET_RELAY_PORT)
    .option(
      '--homeserver-port <port>',
      'homeserver HTTP port (0 = any free port)',
      parsePort,
      TESTNET_HOMESERVER_PORT,
    )
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'keep the testnet state in this folder (default: in memory)')
    .action(
      async (options: {
        demo?: boolean;
        relayPort: number;
        homeserverPort: number;
        host: string;
        data?: string;
      }) => {
        const testnet = await startTestnet({
          host: options.host,
          relayPort: options.relayPort,
          homeserverPort: options.homeserverPort,
          dataDir: options.data,
        });
        const stop = async () => {
          await testnet.close();
          process.exit(0);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        const demoUsers = options.demo ? await seedDemo(testnet) : undefined;
        // One JSON line on stdout, always (scripts wait for it); a human summary on stderr.
        process.stdout.write(
          `${JSON.stringify({
            relay: testnet.relay.url,
            homeserver: testnet.homeserver.url,
            homeserverKey: testnet.homeserver.publicKey.z32,
            ...(demoUsers && { demoUsers }),
          })}\n`,
        );
        if (!context.output().json) {
          process.stderr.write(
            `testnet ready: relay ${testnet.relay.url}, homeserver ${testnet.homeserver.url}\n`,
          );
          for (const user of demoUsers ?? []) {
            process.stderr.write(`  demo user ${user.name}: ${user.pubky} (${user.files} files)\n`);
          }
          process.stderr.write('press Ctrl-C to stop\n');
        }
        await new Promise(() => {}); // run until a signal stops us
      },
    );
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new InvalidArgumentError('a port is a number from 0 to 65535');
  return port;
}
