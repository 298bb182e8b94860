import { describe, expect, it } from 'vitest';
import { CommitQueue } from '../../src/store/commit-queue.js';

/** A promise settled from outside. */
function gate<T = void>() {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/** Lets every pending promise callback and I/O callback run (no timers involved). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('CommitQueue', () => {
  it('runs at most `concurrency` tasks and admits at most `limit`; admission waits in order', async () => {
    const queue = new CommitQueue(1, 2);
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const task = (i: number) => async () => {
      started.push(i);
      await gates[i]?.promise;
      return i;
    };
    const first = await queue.add(task(0));
    const second = await queue.add(task(1));
    let thirdAdmitted = false;
    const third = queue.add(task(2)).then((admitted) => {
      thirdAdmitted = true;
      return admitted;
    });
    await settle();
    expect(started).toEqual([0]); // one at a time
    expect(queue.size).toBe(2);
    expect(thirdAdmitted).toBe(false); // full: the caller waits (back-pressure)

    gates[0]?.open();
    expect(await first.done).toBe(0);
    await settle();
    expect(started).toEqual([0, 1]);
    expect(thirdAdmitted).toBe(true);
    expect(queue.size).toBe(2);

    gates[1]?.open();
    gates[2]?.open();
    expect(await second.done).toBe(1);
    expect(await (await third).done).toBe(2);
    expect(queue.size).toBe(0);
  });

  it('a failing task rejects its own `done` only; the queue goes on', async () => {
    const queue = new CommitQueue(1, 4);
    const failing = await queue.add(async () => {
      throw new Error('EIO');
    });
    const next = await queue.add(async () => 'ok');
    await expect(failing.done).rejects.toThrow('EIO');
    expect(await next.done).toBe('ok');
    expect(queue.size).toBe(0);
  });

  it('settled() waits for every task admitted before it, failed ones included', async () => {
    const queue = new CommitQueue(2, 4);
    const g = gate();
    const slow = await queue.add(() => g.promise);
    const failing = await queue.add(async () => {
      throw new Error('rename failed');
    });
    failing.done.catch(() => {});
    let settledNow = false;
    const waiting = queue.settled().then(() => {
      settledNow = true;
    });
    await settle();
    expect(settledNow).toBe(false);
    g.open();
    await waiting;
    expect(settledNow).toBe(true);
    await slow.done;
    // Nothing pending: resolves at once.
    await queue.settled();
  });
});
