import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RetryFileError, type RetryItem, RetryQueue } from '../../src/store/index.js';
import { tempDirFixture } from '../helpers/temp-dir.js';

let dir: string;
let file: string;
tempDirFixture('pubky-retry-', (created) => {
  dir = created;
  file = join(dir, 'state', 'retry.json');
});

const item = (path: string, nextAttemptAtMs: number, extra: Partial<RetryItem> = {}): RetryItem => ({
  path,
  attempts: 1,
  nextAttemptAtMs,
  lastError: 'HTTP 503',
  ...extra,
});

describe('RetryQueue', () => {
  it('persists items across open/save', async () => {
    const queue = await RetryQueue.open(file);
    expect(queue.size).toBe(0);
    queue.upsert(item('/pub/a', 300, { contentHash: 'abc=' }));
    queue.upsert(item('/pub/b', 100, { missing: true }));
    queue.upsert(item('/pub/c', 200));
    queue.upsert(item('/pub/c', 250, { attempts: 2 }));
    await queue.save();

    const reopened = await RetryQueue.open(file);
    expect(reopened.size).toBe(3);
    expect(reopened.get('/pub/c')).toEqual(item('/pub/c', 250, { attempts: 2 }));
    expect(reopened.get('/pub/b')?.missing).toBe(true);
    expect(reopened.due(250).map((i) => i.path)).toEqual(['/pub/b', '/pub/c']);
    expect(reopened.due(0)).toEqual([]);
    expect(reopened.all()).toHaveLength(3);

    expect(reopened.remove('/pub/b')).toBe(true);
    expect(reopened.remove('/pub/b')).toBe(false);
    await reopened.save();
    expect((await RetryQueue.open(file)).all().map((i) => i.path)).toEqual(['/pub/a', '/pub/c']);
  });

  it('an empty queue saves and reloads', async () => {
    const queue = await RetryQueue.open(file);
    queue.upsert(item('/pub/a', 1));
    queue.remove('/pub/a');
    await queue.save();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, items: [] });
  });

  it('a corrupt file throws an error naming it and is left alone', async () => {
    await mkdir(join(dir, 'state'));
    for (const content of ['{not json', '{"items": 3}', '{"items":[{"path":"/pub/a"}]}']) {
      await writeFile(file, content);
      const error = await RetryQueue.open(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryFileError);
      expect((error as Error).message).toContain(file);
      expect(await readFile(file, 'utf8')).toBe(content);
    }
  });
});
