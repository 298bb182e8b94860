import { describe, expect, it } from 'vitest';
import { aggregate, keyLabel, keyLevel, offlineStatus, shortPubky } from '../../src/tray/status.js';
import { A, B, C, failing, guardPause, idle, statusKey } from './fixtures.js';

describe('tray status', () => {
  it('aggregates in the original order: Syncing, then Starting, then Error, then Paused, otherwise Synced', () => {
    const syncing = statusKey(A, { state: 'syncing', done: 1, total: 4 });
    const starting = statusKey(B, { state: 'starting' });
    const error = statusKey(C, failing);
    const paused = statusKey('p'.repeat(52), idle, { paused: { reason: 'user', deletes: 0, files: 0 } });
    const synced = statusKey('s'.repeat(52), idle);
    expect(aggregate([synced, paused, error, starting, syncing]).level).toBe('syncing');
    expect(aggregate([synced, paused, error, starting]).level).toBe('starting');
    expect(aggregate([synced, paused, error]).level).toBe('error');
    expect(aggregate([synced, paused]).level).toBe('paused');
    expect(aggregate([synced]).level).toBe('synced');
    expect(aggregate([]).level).toBe('synced');
  });

  it('counts pubkys and what they do: "3 pubkys · 1 syncing"', () => {
    const status = aggregate([
      statusKey(A, idle),
      statusKey(B, { state: 'syncing', done: 0, total: 0 }),
      statusKey(C, idle),
    ]);
    expect(status.summary).toBe('3 pubkys · 1 syncing');
    expect(status.tooltip).toBe('Pubky Backup: Syncing — 3 pubkys · 1 syncing');
    expect(aggregate([statusKey(A, failing), statusKey(B, failing), statusKey(C, idle)]).summary).toBe(
      '3 pubkys · 2 errors',
    );
    expect(aggregate([statusKey(A, idle)]).summary).toBe('1 pubky');
    expect(aggregate([]).summary).toBe('no pubkys yet');
    // Removed pubkys (folder kept, inactive) are not counted.
    expect(aggregate([statusKey(A, null, { active: false }), statusKey(B, idle)]).summary).toBe('1 pubky');
  });

  it("tells each key's level and label from its live state, else from its files", () => {
    expect(keyLevel(statusKey(A, idle))).toBe('synced');
    expect(keyLevel(statusKey(A, { state: 'waiting', reason: 'unknown user' }))).toBe('synced');
    expect(keyLabel(statusKey(A, { state: 'waiting', reason: 'unknown user' }))).toBe(
      'Waiting for the homeserver',
    );
    // Paused by the user while idle: the pause file says so before the key's next run does.
    expect(keyLevel(statusKey(A, idle, { paused: { reason: 'user', deletes: 0, files: 0 } }))).toBe('paused');
    expect(keyLabel(statusKey(A, { state: 'paused', reason: 'x' }, { paused: guardPause }))).toBe(
      'Paused (mass delete)',
    );
    expect(keyLabel(statusKey(A, { state: 'syncing', done: 12, total: 40 }))).toBe('Syncing 12/40');
    expect(keyLabel(statusKey(A, failing))).toBe('Error: the homeserver does not answer');
    // Not followed by the daemon: broken files are an error, otherwise it is starting.
    expect(keyLevel(statusKey(A, null, { error: { code: 'X', message: 'bad index' } }))).toBe('error');
    expect(keyLevel(statusKey(A, null))).toBe('starting');
  });

  it('has an offline status and short pubkys for menus', () => {
    expect(offlineStatus()).toMatchObject({ level: 'offline', summary: 'the daemon is not running' });
    expect(shortPubky(A)).toBe('u6uapwix…41t17y');
  });
});
