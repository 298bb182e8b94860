import type { Command } from 'commander';
import { openResolver } from '../../app/index.js';
import { parsePubky } from '../../identity/index.js';
import type { CliContext } from '../context.js';

export function registerResolve(program: Command, context: CliContext): void {
  program
    .command('resolve')
    .description("find a pubky's homeserver through PKDNS (pkarr relays and the Mainline DHT)")
    .argument('<pubky>', 'the pubky, in any pasted form')
    .action(async (text: string) => {
      const user = parsePubky(text);
      const pkdns = await openResolver(context.pkdnsFlags(), context.dataDir());
      try {
        const resolution = await pkdns.resolver.resolveHomeserver(user);
        const where =
          resolution.source === 'cache'
            ? `cache${resolution.stale ? ' (expired; no source answered)' : ''}, originally from ${resolution.from}`
            : resolution.source === 'dht'
              ? 'Mainline DHT'
              : `relay ${resolution.from}`;
        const human = [
          `pubky       ${resolution.user}`,
          `homeserver  ${resolution.homeserver ?? `(domain) ${resolution.domain}`}`,
          ...resolution.endpoints.map(
            (e, i) => `${i === 0 ? 'endpoints ' : '          '}  ${e.url} (priority ${e.priority})`,
          ),
          `source      ${where}`,
        ].join('\n');
        context.output().result({ ...resolution }, human);
      } finally {
        await pkdns.close();
      }
    });
}
