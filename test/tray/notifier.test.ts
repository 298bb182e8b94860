import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { desktopNotifier, IncidentNotifier, type Notification } from '../../src/tray/notifier.js';
import { A, B, failing, guardPause, idle, statusKey } from './fixtures.js';

function recorder() {
  const sent: Notification[] = [];
  const notifier = new IncidentNotifier(async (notification) => {
    sent.push(notification);
  });
  return { sent, notifier };
}

describe('notifications once per incident', () => {
  it('a key that errors is told once, through its retries, until it is backed up again', () => {
    const { sent, notifier } = recorder();
    notifier.update([statusKey(A, idle), statusKey(B, idle)]);
    expect(sent).toEqual([]);
    notifier.update([statusKey(A, failing), statusKey(B, idle)]);
    expect(sent).toEqual([
      { title: 'Pubky Backup: backup failing', message: 'u6uapwix…41t17y: the homeserver does not answer' },
    ]);
    // Retries (starting, syncing) and the same error again are the same incident.
    notifier.update([statusKey(A, { state: 'starting' }), statusKey(B, idle)]);
    notifier.update([statusKey(A, { state: 'syncing', done: 0, total: 0 }), statusKey(B, idle)]);
    notifier.update([statusKey(A, failing), statusKey(B, idle)]);
    expect(sent).toHaveLength(1);
    // Backed up again: the incident is over; a new failure is a new incident.
    notifier.update([statusKey(A, idle), statusKey(B, idle)]);
    notifier.update([statusKey(A, failing), statusKey(B, idle)]);
    expect(sent).toHaveLength(2);
  });

  it('a mass-delete pause is told once, with what to do; lifting it ends the incident', () => {
    const { sent, notifier } = recorder();
    const paused = statusKey(A, { state: 'paused', reason: 'deleted' }, { paused: guardPause });
    notifier.update([paused]);
    notifier.update([paused]);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.title).toBe('Pubky Backup: sync paused');
    expect(sent[0]?.message).toContain('deleted 9 of 10 files at once');
    notifier.update([statusKey(A, idle)]);
    notifier.update([paused]);
    expect(sent).toHaveLength(2);
  });

  it('every key has its own incidents; a removed key forgets its incident', () => {
    const { sent, notifier } = recorder();
    notifier.update([statusKey(A, failing), statusKey(B, failing)]);
    expect(sent).toHaveLength(2);
    notifier.update([statusKey(A, failing)]);
    notifier.update([statusKey(A, failing), statusKey(B, failing)]);
    expect(sent).toHaveLength(3);
  });

  it('a notifier that fails never stops the tray', async () => {
    const notifier = new IncidentNotifier(async () => {
      throw new Error('no notification service');
    });
    expect(() => notifier.update([statusKey(A, failing)])).not.toThrow();
  });

  it('the real desktop notifier says once when notifications are unavailable, and never throws out of update', async () => {
    const hasNotifySend = (() => {
      try {
        execFileSync('sh', ['-c', 'command -v notify-send'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    if (!hasNotifySend)
      console.log('notify-send is not installed (Debian: libnotify-bin): only the failure path runs');
    const told: string[] = [];
    const notify = desktopNotifier((message) => told.push(message));
    // Without a notification service (CI, Xvfb) this fails; with one, it shows a notification.
    const outcome = await notify({ title: 'Pubky Backup test', message: 'test notification' }).then(
      () => 'shown',
      () => 'failed',
    );
    if (outcome === 'failed') {
      await notify({ title: 'Pubky Backup test', message: 'again' }).catch(() => {});
      expect(told).toHaveLength(1);
      expect(told[0]).toMatch(/^desktop notifications unavailable: /);
    } else {
      expect(told).toEqual([]);
    }
  });
});
