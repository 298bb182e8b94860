import type { StatusKey } from '../../src/tray/status.js';

/** A `GET /status` key as the tray reads it; `live` and the rest overridable. */
export function statusKey(pubky: string, live: StatusKey['live'], extra: Partial<StatusKey> = {}): StatusKey {
  return {
    pubky,
    active: true,
    folder: `/backups/keys/${pubky}`,
    paused: null,
    error: null,
    live,
    ...extra,
  };
}

export const A = 'u6uapwix4ty33g3aepx1db99c4yswz4degtnc1peibqj4w41t17y';
export const B = '7mfthoxjg8ugbg1rzgytxxcxsnjys1u17cfhqexookpejt314mty';
export const C = '84ythwejzbos8nb74c9yhtihjihki7khehxowbctpa65r8jb9hay';

export const idle = { state: 'idle', lastSync: '2026-01-01T00:00:00Z', failed: 0 };
export const failing = {
  state: 'error',
  code: 'HOMESERVER_UNREACHABLE',
  message: 'the homeserver does not answer',
};
export const guardPause = { reason: 'mass-delete' as const, deletes: 9, files: 10 };
