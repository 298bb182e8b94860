import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

// The fixed ports of pubky-core's static testnet, checked in a private network namespace (only
// loopback, nothing else on it), so no port on this machine is taken. Skipped where unprivileged
// namespaces are not available.
const canUnshare = spawnSync('unshare', ['-rn', 'ip', 'link', 'set', 'lo', 'up']).status === 0;

const PROBE = `
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
const child = spawn(process.execPath, [process.argv[2], 'testnet', '--homeservers', '2'], {
  stdio: ['ignore', 'pipe', 'ignore'],
});
const [line] = await once(createInterface({ input: child.stdout }), 'line');
const status = async (url) => (await fetch(url)).status;
const ports = {};
for (const port of [15411, 15412, 6286, 6288, 6296, 6298]) {
  ports[port] = await status(\`http://127.0.0.1:\${port}/\`);
}
console.log(JSON.stringify({ ready: JSON.parse(line), ports }));
child.kill('SIGTERM');
await once(child, 'exit');
`;

describe.skipIf(!canUnshare)('testnet on the static testnet ports (private network namespace)', () => {
  it('relay 15411, HTTP relay 15412, homeservers 6286 and 6296 with admin servers 6288 and 6298', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubky-static-ports-'));
    const script = join(dir, 'probe.mjs');
    await writeFile(script, PROBE);
    const child = spawn(
      'unshare',
      ['-rn', 'sh', '-c', 'ip link set lo up && exec "$0" "$1" "$2"', process.execPath, script, BIN],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const { ready, ports } = JSON.parse(stdout) as {
      ready: {
        relay: string;
        httpRelay: string;
        adminUrl: string;
        homeservers: Array<{ url: string; key: string; admin: string }>;
      };
      ports: Record<string, number>;
    };
    expect(ready.relay).toBe('http://127.0.0.1:15411');
    expect(ready.httpRelay).toBe('http://127.0.0.1:15412/link');
    expect(ready.homeservers).toEqual([
      {
        url: 'http://127.0.0.1:6286',
        key: '8pinxxgqs41n4aididenw5apqp1urfmzdztr8jt4abrkdn435ewo',
        admin: 'http://127.0.0.1:6288',
      },
      { url: 'http://127.0.0.1:6296', key: expect.any(String), admin: 'http://127.0.0.1:6298' },
    ]);
    // Every server answers: the relays (404 on their roots' unknown paths is an answer too).
    expect(Object.values(ports).every((status) => status > 0)).toBe(true);
    expect(ports[6286]).toBe(200);
    expect(ports[6288]).toBe(200);
  });
});
