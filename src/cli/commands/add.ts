import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { HomeserverClient, HomeserverError, isMissingRoute } from '../../homeserver/index.js';
import { parsePubky } from '../../identity/index.js';
import { homeserverEndpoints } from '../../pkdns/index.js';
import { KeyLayout } from '../../store/index.js';
import { writeKeyConfig } from '../../sync/index.js';
import type { CliContext } from '../context.js';
import { CliError } from '../output.js';
import { openResolver } from '../pkdns-setup.js';

export function registerAdd(program: Command, context: CliContext): void {
  program
    .command('add')
    .description('start backing up a pubky (checks it and its homeserver before writing anything)')
    .argument('<pubky>', 'the pubky, in any pasted form')
    .option('--homeserver <url|pubky>', 'use this homeserver instead of looking it up (pins it)')
    .action(async (text: string, options: { homeserver?: string }) => {
      const user = parsePubky(text);
      const dataDir = context.dataDir();
      const layout = new KeyLayout(dataDir, user.z32);
      const reactivating = existsSync(layout.inactiveMarker);
      if (existsSync(layout.keyDir) && !reactivating) {
        throw new CliError('ALREADY_ADDED', `${user.z32} is already backed up in ${layout.keyDir}.`);
      }
      const pkdns = await openResolver(context.pkdnsFlags(), dataDir);
      let url: string;
      let source: string;
      try {
        if (options.homeserver && /^https?:\/\//i.test(options.homeserver)) {
          url = options.homeserver.replace(/\/+$/, '');
          source = 'pinned with --homeserver';
        } else if (options.homeserver) {
          const homeserver = parsePubky(options.homeserver);
          const endpoints = homeserverEndpoints((await pkdns.resolver.resolvePacket(homeserver)).packet);
          if (!endpoints[0])
            throw new CliError('NO_ENDPOINT', `Homeserver ${homeserver.z32} publishes no HTTP endpoint.`);
          url = endpoints[0].url;
          source = `pinned homeserver ${homeserver.z32}`;
        } else {
          const resolution = await pkdns.resolver.resolveHomeserver(user);
          url = (resolution.endpoints[0] as { url: string }).url;
          source = `homeserver ${resolution.homeserver ?? resolution.domain} via PKDNS`;
        }
      } finally {
        await pkdns.close();
      }
      const known = await checkHomeserver(url, user.z32);

      await mkdir(layout.stateDir, { recursive: true });
      await writeKeyConfig(layout.keyConfigFile, {
        pubky: user.z32,
        addedAt: new Date().toISOString(),
        ...(options.homeserver && { homeserverUrl: url }),
      });
      if (reactivating) await rm(layout.inactiveMarker, { force: true });
      const warning = known
        ? ''
        : `\nwarning: ${url} does not know ${user.z32} yet; the backup starts when it does.`;
      context
        .output()
        .result(
          { pubky: user.z32, homeserver: url, source, folder: layout.keyDir, knownToHomeserver: known },
          `added ${user.z32}\n  homeserver ${url} (${source})\n  folder     ${layout.keyDir}${warning}\nrun \`pubky-backup sync --once\` to back it up now.`,
        );
    });
}

/** The homeserver must answer; returns whether it hosts the user. Writes nothing. */
async function checkHomeserver(url: string, user: string): Promise<boolean> {
  const client = new HomeserverClient({ baseUrl: url, requestTimeoutMs: 10_000 });
  try {
    for await (const _event of client.eventsStream({ users: [{ user, cursor: '0' }], limit: 1 })) break;
    return true;
  } catch (error) {
    if (error instanceof HomeserverError && error.kind === 'not-found' && !isMissingRoute(error))
      return false;
    if (isMissingRoute(error)) return true; // an older homeserver: reachable, can't tell more
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(
      'HOMESERVER_UNREACHABLE',
      `Cannot reach the homeserver at ${url}: ${reason}. Nothing was added.`,
    );
  }
}
