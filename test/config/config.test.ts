import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  configPath,
  DEFAULT_CONFIG,
  loadConfig,
  resolveDataDir,
  saveConfig,
  withField,
} from '../../src/config/index.js';
import { caught } from '../helpers/errors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubky-backup-config-'));
});

describe('config.json', () => {
  it('a missing file means defaults, and nothing is written', async () => {
    expect(await loadConfig(dir)).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.syncIntervalSeconds).toBe(30);
    expect(await readdir(dir)).toEqual([]);
  });

  it('saves atomically and loads back, filling defaults for absent fields', async () => {
    await writeFile(configPath(dir), JSON.stringify({ syncIntervalSeconds: 60 }));
    const loaded = await loadConfig(dir);
    expect(loaded.syncIntervalSeconds).toBe(60);
    expect(loaded.downloadConcurrency).toBe(8);
    await saveConfig(dir, { ...loaded, downloadConcurrency: 4 });
    expect((await loadConfig(dir)).downloadConcurrency).toBe(4);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('corrupt JSON names the file and is never overwritten', async () => {
    const file = configPath(dir);
    await writeFile(file, '{"syncIntervalSeconds": 30,');
    const error = await caught(loadConfig(dir), ConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toContain('not valid JSON');
    expect(error.field).toBeUndefined();
    expect(await readFile(file, 'utf8')).toBe('{"syncIntervalSeconds": 30,');
  });

  it.each([
    [{ syncIntervalSeconds: 5 }, 'syncIntervalSeconds', />=10/],
    [{ syncIntervalSeconds: 'often' }, 'syncIntervalSeconds', /number/],
    [{ daemon: { port: 70000 } }, 'daemon.port', /65535/],
    [{ relays: ['ftp://relay.example'] }, 'relays.0', /URL/i],
    [{ syncIntervalSecnods: 30 }, 'syncIntervalSecnods', /unknown field/],
    [{ version: 2 }, 'version', /1/],
  ])('an invalid value names the field: %j', async (content, field, reason) => {
    const file = configPath(dir);
    await writeFile(file, JSON.stringify(content));
    const error = await caught(loadConfig(dir), ConfigError);
    expect(error.field).toBe(field);
    expect(error.message).toContain(file);
    expect(error.message).toContain(`"${field}"`);
    expect(error.message).toMatch(reason);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(content);
  });

  it('a top level that is not an object is reported', async () => {
    await writeFile(configPath(dir), '[1,2]');
    expect((await caught(loadConfig(dir), ConfigError)).message).toContain('top level');
  });

  it('withField sets a dotted field and validates it', () => {
    const file = configPath(dir);
    expect(withField(file, DEFAULT_CONFIG, 'daemon.port', 0).daemon.port).toBe(0);
    expect(() => withField(file, DEFAULT_CONFIG, 'syncIntervalSeconds', 1)).toThrow(ConfigError);
    expect(() => withField(file, DEFAULT_CONFIG, 'nope.deeper', 1)).toThrow(/Unknown config field/);
    expect(DEFAULT_CONFIG.daemon.port).toBe(7890);
  });
});

describe('data dir', () => {
  it('--data-dir wins over PUBKY_BACKUP_HOME, which wins over ~/.pubky-backup', () => {
    expect(resolveDataDir('/a', { PUBKY_BACKUP_HOME: '/b' })).toBe('/a');
    expect(resolveDataDir(undefined, { PUBKY_BACKUP_HOME: '/b' })).toBe('/b');
    expect(resolveDataDir(undefined, {})).toMatch(/\.pubky-backup$/);
  });
});
