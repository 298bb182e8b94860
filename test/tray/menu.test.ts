import { describe, expect, it } from 'vitest';
import { buildMenu, MAX_KEY_ENTRIES, menuShape, type TrayItem } from '../../src/tray/menu.js';
import { A, B, failing, guardPause, idle, statusKey } from './fixtures.js';

const titles = (items: TrayItem[]) => items.map((item) => item.title);

describe('tray menu', () => {
  it('has a status line, Open dashboard, Force sync all, Pause all, one entry per pubky and Quit', () => {
    const menu = buildMenu([statusKey(A, idle), statusKey(B, failing)]);
    expect(menu.level).toBe('error');
    expect(titles(menu.items)).toEqual([
      'Error — 2 pubkys · 1 error',
      '-',
      'Open dashboard',
      'Force sync all',
      'Pause all',
      '-',
      'u6uapwix…41t17y — Synced',
      '7mfthoxj…314mty — Error: the homeserver does not answer',
      '-',
      'Quit',
    ]);
    expect(menu.items[0]?.enabled).toBe(false);
    const entry = menu.items[6] as TrayItem;
    expect(entry.tooltip).toBe(A);
    expect(entry.items?.map((item) => [item.title, item.action])).toEqual([
      ['Force sync', { kind: 'sync-key', pubky: A }],
      ['Pause', { kind: 'pause-key', pubky: A }],
      ['Open folder', { kind: 'open-key', pubky: A, folder: `/backups/keys/${A}` }],
    ]);
    expect(menu.items.at(-1)?.action).toEqual({ kind: 'quit' });
  });

  it('offers Resume all when every pubky is paused, and never resumes a mass-delete pause by a click', () => {
    const user = { reason: 'user' as const, deletes: 0, files: 0 };
    const menu = buildMenu([
      statusKey(A, idle, { paused: user }),
      statusKey(B, idle, { paused: guardPause }),
    ]);
    expect(menu.items[4]).toMatchObject({
      title: 'Resume all',
      enabled: true,
      action: { kind: 'resume-all' },
    });
    const guarded = menu.items[7]?.items?.[1];
    expect(guarded).toMatchObject({ title: 'Resume (needs accepting the deletes)', enabled: false });
    expect(guarded?.action).toBeUndefined();
    expect(guarded?.tooltip).toContain(`pubky-backup resume ${B} --accept-deletes`);
    expect(menu.items[6]?.items?.[1]).toMatchObject({
      title: 'Resume',
      action: { kind: 'resume-key', pubky: A },
    });
  });

  it('without a daemon: only the status and Quit tray work', () => {
    const menu = buildMenu(undefined);
    expect(menu.level).toBe('offline');
    expect(menu.tooltip).toBe('Pubky Backup: the daemon is not running');
    expect(menu.items.filter((item) => item.enabled && item.title !== '-').map((item) => item.title)).toEqual(
      ['Quit tray'],
    );
  });

  it('keeps its shape when only states change, and changes it when pubkys come or go', () => {
    const before = buildMenu([statusKey(A, idle), statusKey(B, idle)]);
    const after = buildMenu([statusKey(A, { state: 'syncing', done: 1, total: 2 }), statusKey(B, failing)]);
    expect(menuShape(after)).toBe(menuShape(before));
    expect(menuShape(buildMenu([statusKey(A, idle)]))).not.toBe(menuShape(before));
    expect(menuShape(buildMenu(undefined))).not.toBe(menuShape(before));
  });

  it(`lists at most ${MAX_KEY_ENTRIES} pubkys, then one entry for the rest`, () => {
    const keys = Array.from({ length: MAX_KEY_ENTRIES + 3 }, (_, i) =>
      statusKey(`${i}`.padStart(52, 'y'), idle),
    );
    const menu = buildMenu(keys);
    expect(menu.items.filter((item) => item.items).length).toBe(MAX_KEY_ENTRIES);
    expect(menu.items.find((item) => item.title === '… 3 more')?.action).toEqual({ kind: 'open-dashboard' });
  });
});
