import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendActivity, readActivity } from '../../src/store/index.js';
import { tempDirFixture } from '../helpers/temp-dir.js';

let file: string;
tempDirFixture('pubky-activity-', (dir) => {
  file = join(dir, 'keys', 'k', 'state', 'activity.log');
});

describe('activity log', () => {
  it('is empty when missing', async () => {
    expect(await readActivity(file)).toEqual([]);
  });

  it('appends JSON lines with an ISO timestamp, creating folders', async () => {
    await appendActivity(file, { type: 'sync', message: 'Synced 3 files', files: 3 }, new Date(0));
    await appendActivity(file, { type: 'error', message: 'x' });
    const entries = await readActivity(file);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toEqual({
      type: 'sync',
      message: 'Synced 3 files',
      files: 3,
      timestamp: '1970-01-01T00:00:00.000Z',
    });
    expect(entries[1]?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('reads the last entries from the end, skipping torn lines', async () => {
    for (let i = 0; i < 3000; i++) {
      await appendActivity(file, { type: 'put', message: `file ${i} ${'x'.repeat(i % 50)}`, i });
    }
    await appendFile(file, '{"type":"torn","mess');
    const last = await readActivity(file, { last: 5 });
    expect(last.map((e) => e.i)).toEqual([2995, 2996, 2997, 2998, 2999]);
    expect((await readActivity(file, { last: 2500 })).map((e) => e.i)).toEqual(
      Array.from({ length: 2500 }, (_, k) => k + 500),
    );
    expect(await readActivity(file)).toHaveLength(3000);
    expect(await readActivity(file, { last: 0 })).toEqual([]);
  });
});
