import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../dist/cli/main.js');

describe('pubky-backup testnet', () => {
  it('--demo prints one ready line, serves the demo users’ files, and stops cleanly on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'testnet', '--demo', '--relay-port', '0', '--homeserver-port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const ready = JSON.parse(line);
      expect(ready.relay).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(ready.homeserver).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(ready.homeserverKey).toBe('8pinxxgqs41n4aididenw5apqp1urfmzdztr8jt4abrkdn435ewo');
      expect(ready.demoUsers).toHaveLength(3);

      for (const demo of ready.demoUsers) {
        const response = await fetch(`${ready.homeserver}/pub/?limit=1000`, {
          headers: { 'pubky-host': demo.pubky },
        });
        expect(response.status).toBe(200);
        const lines = (await response.text()).split('\n');
        expect(lines).toHaveLength(demo.files);
        expect(lines).toContain(`pubky://${demo.pubky}/pub/pubky.app/profile.json`);
        expect(lines).toContain(`pubky://${demo.pubky}/pub/notes/naïve café — read me.txt`);
        expect(lines.some((l: string) => l.includes('/pub/pubky.app/blobs/'))).toBe(true);
      }
      const bob = ready.demoUsers[1];
      expect(bob.bytes).toBeGreaterThan(5_000_000);
      const profile = await fetch(`${ready.homeserver}/pub/pubky.app/profile.json`, {
        headers: { 'pubky-host': bob.pubky },
      });
      expect(((await profile.json()) as { name: string }).name).toBe('Bob Satoshi');
      expect(stderr).toContain('testnet ready');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('a port that is taken gives a clear error', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    const child = spawn(process.execPath, [BIN, 'testnet', '--relay-port', String(port)], { stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const [code] = await once(child, 'exit');
    blocker.close();
    expect(code).toBe(2);
    expect(stderr).toContain(`port ${port} is already in use`);
  });
});

describe('pubky-backup demo', () => {
  it('runs the offline demo end to end: testnet, demo users, backup, live update', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { existsSync } = await import('node:fs');
    const { runCli } = await import('../helpers/cli.js');
    const dataDir = await mkdtemp(join(tmpdir(), 'pubky-demo-test-'));
    const result = await runCli(['--json', '--data-dir', dataDir, 'demo']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.users).toHaveLength(3);
    expect(summary.liveLatencyMs).toBeTypeOf('number');
    for (const user of summary.users) {
      expect(existsSync(join(dataDir, 'keys', user.pubky, 'data/pub/pubky.app/profile.json'))).toBe(true);
    }
    expect(result.stderr).toContain('5. live: a new post');
  });
});
