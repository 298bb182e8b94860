import { describe, expect, it } from 'vitest';
import { planPrune, type SnapshotInfo, snapshotName, snapshotTime } from '../../src/snapshot/index.js';

const at = (iso: string): SnapshotInfo => {
  const createdAt = new Date(iso);
  const name = snapshotName(createdAt);
  return { pubky: 'k', name, file: `/s/${name}`, createdAt, size: 1 };
};
const names = (list: SnapshotInfo[]) => list.map((s) => s.createdAt.toISOString().slice(0, 16)).sort();

// Two snapshots a day for 60 days, newest 2026-03-01.
const history = Array.from({ length: 120 }, (_, i) =>
  at(new Date(Date.UTC(2026, 2, 1, 18) - i * 12 * 3_600_000).toISOString()),
);

describe('snapshot names', () => {
  it('round-trip the original app’s UTC naming', () => {
    const date = new Date('2026-11-27T08:09:10.011Z');
    expect(snapshotName(date)).toBe('2026-11-27_08-09-10.011.zip');
    expect(snapshotTime('2026-11-27_08-09-10.011.zip')).toEqual(date);
    expect(snapshotTime('.2026-11-27_08-09-10.011.zip.abc.tmp')).toBeUndefined();
    expect(snapshotTime('notes.zip')).toBeUndefined();
  });
});

describe('planPrune (restic forget semantics)', () => {
  it('keep-last keeps the N newest', () => {
    const plan = planPrune(history, { keepLast: 3 });
    expect(names(plan.keep.map((k) => k.snapshot))).toEqual([
      '2026-02-28T18:00',
      '2026-03-01T06:00',
      '2026-03-01T18:00',
    ]);
    expect(plan.remove).toHaveLength(117);
  });

  it('keep-daily keeps the newest snapshot of each of the last N days', () => {
    const plan = planPrune(history, { keepDaily: 3 });
    expect(names(plan.keep.map((k) => k.snapshot))).toEqual([
      '2026-02-27T18:00',
      '2026-02-28T18:00',
      '2026-03-01T18:00',
    ]);
    expect(plan.keep.every((k) => k.reasons[0]?.startsWith('daily '))).toBe(true);
  });

  it('keep-weekly uses ISO weeks and keep-monthly calendar months (UTC)', () => {
    const weekly = planPrune(history, { keepWeekly: 2 });
    // 2026-03-01 is a Sunday: week 09 ends there, week 08 ended on 2026-02-22.
    expect(names(weekly.keep.map((k) => k.snapshot))).toEqual(['2026-02-22T18:00', '2026-03-01T18:00']);
    const monthly = planPrune(history, { keepMonthly: 3 });
    expect(names(monthly.keep.map((k) => k.snapshot))).toEqual([
      '2026-01-31T18:00',
      '2026-02-28T18:00',
      '2026-03-01T18:00',
    ]);
  });

  it('rules combine: a snapshot kept by any rule stays, with every reason', () => {
    const plan = planPrune(history, { keepLast: 1, keepDaily: 2, keepMonthly: 2 });
    const newest = plan.keep.find((k) => k.snapshot.createdAt.toISOString().startsWith('2026-03-01T18'));
    expect(newest?.reasons).toEqual(['last', 'daily 2026-03-01', 'monthly 2026-03']);
    expect(names(plan.keep.map((k) => k.snapshot))).toEqual(['2026-02-28T18:00', '2026-03-01T18:00']);
    expect(plan.keep.length + plan.remove.length).toBe(history.length);
  });

  it('more rules than snapshots keeps them all', () => {
    expect(planPrune(history.slice(0, 5), { keepLast: 10 }).remove).toEqual([]);
  });
});
