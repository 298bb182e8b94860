import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_ADMIN_PASSWORD } from '../../testnet/admin/index.js';
import { seedDemo } from '../../testnet/demo.js';
import {
  MAX_TESTNET_HOMESERVERS,
  startTestnet,
  TESTNET_HOMESERVER_PORT,
  TESTNET_RELAY_PORT,
  type Testnet,
} from '../../testnet/testnet.js';
import type { CliContext } from '../context.js';

interface TestnetCommandOptions {
  demo?: boolean;
  homeservers: number;
  relayPort: number;
  httpRelayPort?: number;
  homeserverPort: number;
  adminPort?: number;
  adminPassword: string;
  host: string;
  data?: string;
}

export function registerTestnet(program: Command, context: CliContext): void {
  program
    .command('testnet')
    .description(
      'run a local Pubky testnet (pkarr relay, HTTP relay, homeservers with admin servers) on this machine until Ctrl-C',
    )
    .option('--demo', 'seed demo users with pubky.app-style data and print their pubkys')
    .option(
      '--homeservers <n>',
      `how many homeservers (1-${MAX_TESTNET_HOMESERVERS}); homeserver n uses the first one's ports + 10 × (n - 1)`,
      parseCount,
      1,
    )
    .option('--relay-port <port>', 'pkarr relay port (0 = any free port)', parsePort, TESTNET_RELAY_PORT)
    .option(
      '--http-relay-port <port>',
      'HTTP relay port (default: relay port + 1, or free with 0)',
      parsePort,
    )
    .option(
      '--homeserver-port <port>',
      'first homeserver HTTP port (0 = any free ports for all)',
      parsePort,
      TESTNET_HOMESERVER_PORT,
    )
    .option(
      '--admin-port <port>',
      'first admin server port (default: homeserver port + 2, or free with 0)',
      parsePort,
    )
    .option('--admin-password <password>', 'X-Admin-Password of the admin servers', DEFAULT_ADMIN_PASSWORD)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'keep the testnet state in this folder (default: in memory)')
    .action(async (options: TestnetCommandOptions) => {
      const testnet = await startTestnet({
        host: options.host,
        homeservers: options.homeservers,
        relayPort: options.relayPort,
        httpRelayPort: options.httpRelayPort,
        homeserverPort: options.homeserverPort,
        adminPort: options.adminPort,
        adminPassword: options.adminPassword,
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
      process.stdout.write(`${JSON.stringify({ ...readyLine(testnet), ...(demoUsers && { demoUsers }) })}\n`);
      if (!context.output().json) {
        process.stderr.write(
          `testnet ready: pkarr relay ${testnet.relay.url}, HTTP relay ${testnet.httpRelay.linkUrl}\n`,
        );
        for (const [i, homeserver] of testnet.homeservers.entries()) {
          process.stderr.write(
            `  homeserver ${i + 1}: ${homeserver.url} ${homeserver.publicKey.z32} (admin ${testnet.admins[i]?.url})\n`,
          );
        }
        for (const user of demoUsers ?? []) {
          process.stderr.write(
            `  demo user ${user.name}: ${user.pubky} (${user.files} files; secret key, testnet only: ${user.secretKey})\n`,
          );
        }
        process.stderr.write('press Ctrl-C to stop\n');
      }
      await new Promise(() => {}); // run until a signal stops us
    });
}

/**
 * The ready line's fields: the first homeserver's (`homeserver`, `homeserverKey`, `adminUrl`)
 * for scripts written for one, and every homeserver under `homeservers`.
 */
function readyLine(testnet: Testnet) {
  return {
    relay: testnet.relay.url,
    httpRelay: testnet.httpRelay.linkUrl,
    homeserver: testnet.homeserver.url,
    homeserverKey: testnet.homeserver.publicKey.z32,
    adminUrl: testnet.admin.url,
    homeservers: testnet.homeservers.map((homeserver, i) => ({
      url: homeserver.url,
      key: homeserver.publicKey.z32,
      admin: testnet.admins[i]?.url,
    })),
  };
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new InvalidArgumentError('a port is a number from 0 to 65535');
  return port;
}

function parseCount(value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > MAX_TESTNET_HOMESERVERS) {
    throw new InvalidArgumentError(`a number from 1 to ${MAX_TESTNET_HOMESERVERS}`);
  }
  return count;
}
