import { keyLabel, keyLevel, pausedByGuard, type StatusKey, shortPubky } from './status.js';

/** A desktop notification. */
export interface Notification {
  title: string;
  message: string;
}

/** Shows a notification; may fail (no notification service): the caller never lets that stop it. */
export type Notify = (notification: Notification) => Promise<void>;

type Incident = 'error' | 'mass-delete';

/**
 * Desktop notifications once per incident: a key that errors, or that the mass-delete guard paused.
 * An error incident ends only when the key is backed up again (or paused by the user, or removed),
 * so a homeserver that stays down and fails every retry is told once, not at every retry; the
 * mass-delete incident ends when the pause is lifted.
 */
export class IncidentNotifier {
  private readonly open = new Map<string, Incident>();

  constructor(private readonly notify: Notify) {}

  /** Looks at every key's current state; returns the notifications it sent (for tests and logs). */
  update(keys: readonly StatusKey[]): Notification[] {
    const sent: Notification[] = [];
    const present = new Set<string>();
    for (const key of keys) {
      if (!key.active) continue;
      present.add(key.pubky);
      const incident = incidentOf(key);
      const current = this.open.get(key.pubky);
      if (incident && incident !== current) {
        this.open.set(key.pubky, incident);
        sent.push(notificationOf(key, incident));
      } else if (!incident && current && ended(key, current)) {
        this.open.delete(key.pubky);
      }
    }
    for (const pubky of [...this.open.keys()]) if (!present.has(pubky)) this.open.delete(pubky);
    for (const notification of sent) void this.notify(notification).catch(() => {});
    return sent;
  }
}

function incidentOf(key: StatusKey): Incident | undefined {
  if (pausedByGuard(key)) return 'mass-delete';
  return keyLevel(key) === 'error' ? 'error' : undefined;
}

/** Syncing and starting are retries: the incident goes on until the key is fine again. */
function ended(key: StatusKey, incident: Incident): boolean {
  if (incident === 'mass-delete') return true;
  const level = keyLevel(key);
  return level === 'synced' || level === 'paused';
}

function notificationOf(key: StatusKey, incident: Incident): Notification {
  if (incident === 'mass-delete') {
    return {
      title: 'Pubky Backup: sync paused',
      message:
        `The homeserver of ${shortPubky(key.pubky)} deleted ${key.paused?.deletes} of ${key.paused?.files} files at once; ` +
        'the backup is paused to protect your copy. Check, then resume accepting the deletes.',
    };
  }
  return {
    title: 'Pubky Backup: backup failing',
    message: `${shortPubky(key.pubky)}: ${keyLabel(key).replace(/^Error: /, '')}`,
  };
}

/**
 * Notifications through `node-notifier` (notify-send on Linux, Notification Center on macOS, toasts on
 * Windows). Rejects when it cannot show one (no notify-send, no notification service); `onFailure`
 * is told once.
 */
export function desktopNotifier(onFailure: (message: string) => void = () => {}): Notify {
  let told = false;
  return async (notification) => {
    try {
      const module = (await import('node-notifier')) as unknown as {
        default: { notify(options: object, callback: (error: Error | null) => void): void };
      };
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000);
        module.default.notify(
          { title: notification.title, message: notification.message, wait: false, appID: 'Pubky Backup' },
          (error) => {
            clearTimeout(timer);
            if (error) reject(error);
            else resolve();
          },
        );
      });
    } catch (error) {
      if (!told) onFailure(`desktop notifications unavailable: ${(error as Error).message.split('\n')[0]}`);
      told = true;
      throw error;
    }
  };
}
