import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { testnetHomeserverKeypair } from '../../src/testnet/testnet.js';
import { BIN, runCli } from '../helpers/cli.js';

interface ReadyLine {
  relay: string;
  httpRelay: string;
  homeserver: string;
  homeserverKey: string;
  adminUrl: string;
  homeservers: Array<{ url: string; key: string; admin: string }>;
}

describe('pubky-backup testnet --homeservers N', () => {
  it('starts N homeservers with admin servers and an HTTP relay, all in the ready line', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'testnet', '--homeservers', '2', '--relay-port', '0', '--homeserver-port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const ready = JSON.parse(line) as ReadyLine;
      expect(ready.homeservers).toHaveLength(2);
      expect(ready.homeservers[0]).toEqual({
        url: ready.homeserver,
        key: ready.homeserverKey,
        admin: ready.adminUrl,
      });
      expect(ready.homeserverKey).toBe('8pinxxgqs41n4aididenw5apqp1urfmzdztr8jt4abrkdn435ewo');
      expect(ready.homeservers[1]?.key).toBe(testnetHomeserverKeypair(1).publicKey.z32);
      expect(ready.httpRelay).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/link$/);
      for (const { url, key, admin } of ready.homeservers) {
        expect(await (await fetch(`${url}/`)).text()).toBe('Pubky Homeserver');
        const info = await fetch(`${admin}/info`, { headers: { 'x-admin-password': 'admin' } });
        expect(((await info.json()) as { public_key: string }).public_key).toBe(key);
      }
      const second = ready.homeservers[1] as ReadyLine['homeservers'][number];
      await fetch(`${second.admin}/testnet/stop`, {
        method: 'POST',
        headers: { 'x-admin-password': 'admin' },
      });
      await expect(fetch(`${second.url}/`)).rejects.toThrow();
      expect((await fetch(`${ready.homeserver}/`)).status).toBe(200);
      expect(stderr).toContain(`homeserver 2: ${second.url} ${second.key} (admin ${second.admin})`);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses a count outside 1 to 20', async () => {
    const result = await runCli([
      'testnet',
      '--homeservers',
      '0',
      '--relay-port',
      '0',
      '--homeserver-port',
      '0',
    ]);
    // A usage error (DESIGN.md: exit 2; commander's subcommands exit 1 today, see the report).
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("argument '0' is invalid. a number from 1 to 20");
  });
});
