import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';

// The CLI is tested as users run it: the built bin (npm test builds first).
const BIN = join(import.meta.dirname, '../../dist/cli/main.js');
const KEY = Keypair.fromSecret(new Uint8Array(32).fill(9)).publicKey.z32;

function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PUBKY_BACKUP_HOME: '', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('pubky-backup CLI', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, '../../package.json'), 'utf8'));
    const result = run(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('--help lists the commands and global options', () => {
    const result = run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('check-key');
    expect(result.stdout).toContain('--data-dir');
    expect(result.stdout).toContain('--json');
  });

  it('check-key prints the canonical key for pk: form', () => {
    const result = run(['check-key', `pk:${KEY}`]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`${KEY}\n`);
  });

  it('check-key --json gives a machine-readable result', () => {
    const result = run(['--json', 'check-key', `https://pubky.app/profile/${KEY}`]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ ok: true, pubky: KEY, display: `pubky${KEY}` });
  });

  it('check-key explains a bad key on stderr and exits 2', () => {
    const result = run(['check-key', `${KEY.slice(0, 20)}0${KEY.slice(21)}`]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Invalid character "0" at position 21');
  });

  it('check-key --json reports the error code', () => {
    const result = run(['--json', 'check-key', 'http://localhost:6286']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe('ADDRESS_WITHOUT_PUBKY');
  });

  it('an unknown command is a usage error', () => {
    const result = run(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });

  it('config show/set use --data-dir, and PUBKY_BACKUP_HOME when no flag is given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubky-backup-cli-'));
    const set = run(['--data-dir', dir, 'config', 'set', 'syncIntervalSeconds', '45']);
    expect(set.code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).syncIntervalSeconds).toBe(45);
    const shown = run(['--json', 'config', 'show'], { PUBKY_BACKUP_HOME: dir });
    expect(JSON.parse(shown.stdout).config.syncIntervalSeconds).toBe(45);
  });

  it('a corrupt config is named with its field, exit 2, and left untouched', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubky-backup-cli-'));
    const file = join(dir, 'config.json');
    await writeFile(file, '{"daemon": {"port": "http"}}');
    for (const args of [
      ['config', 'show'],
      ['config', 'set', 'syncIntervalSeconds', '60'],
    ]) {
      const result = run(['--data-dir', dir, ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(file);
      expect(result.stderr).toContain('"daemon.port"');
    }
    expect(await readFile(file, 'utf8')).toBe('{"daemon": {"port": "http"}}');
    const json = JSON.parse(run(['--json', '--data-dir', dir, 'config', 'show']).stdout);
    expect(json.error).toMatchObject({ code: 'CONFIG_INVALID', details: { file, field: 'daemon.port' } });
  });

  it('config set refuses an invalid value and keeps the old file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubky-backup-cli-'));
    run(['--data-dir', dir, 'config', 'set', 'syncIntervalSeconds', '45']);
    const result = run(['--data-dir', dir, 'config', 'set', 'syncIntervalSeconds', '3']);
    expect(result.code).toBe(2);
    // The value typed is what is wrong, not the file.
    expect(result.stderr).toMatch(
      /^error: syncIntervalSeconds cannot be 3: .*>=10.*Nothing was changed\.\n$/,
    );
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).syncIntervalSeconds).toBe(45);
  });
});
