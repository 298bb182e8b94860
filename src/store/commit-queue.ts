/**
 * Commits (fsync + rename) of downloads whose bytes are already in their temp file, run in the
 * background so the download slot is free for the next file while the disk makes this one durable.
 * Bounded twice: at most `concurrency` commits run at once (each holds a libuv thread in its fsync),
 * and at most `limit` are admitted (running or waiting; each holds one open descriptor, never its
 * bytes). `admit` waits, in order, while the queue is full: that is the back-pressure on downloads.
 */
export class CommitQueue {
  private running = 0;
  private admitted = 0;
  /** Callers waiting for room, first come first served. */
  private readonly waitingForRoom: Array<() => void> = [];
  /** Admitted tasks waiting for a free worker. */
  private readonly waitingToRun: Array<() => void> = [];
  /** Every admitted task, until it settles (what `settled` waits for). */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    readonly concurrency: number,
    readonly limit: number,
  ) {
    if (!(concurrency >= 1) || !(limit >= concurrency)) {
      throw new Error(`CommitQueue: need 1 ≤ concurrency (${concurrency}) ≤ limit (${limit}).`);
    }
  }

  /** Admitted commits not yet settled. */
  get size(): number {
    return this.admitted;
  }

  /**
   * Waits for room, then queues `task` and returns at once with `done`, which settles as the task
   * does. `done` is never an unhandled rejection on its own: its owner awaits it.
   */
  async add<T>(task: () => Promise<T>): Promise<{ done: Promise<T> }> {
    if (this.admitted >= this.limit) {
      await new Promise<void>((resolve) => this.waitingForRoom.push(resolve));
    } else {
      this.admitted++;
    }
    const done = this.run(task);
    const tracked = done.then(
      () => {},
      () => {},
    );
    this.inFlight.add(tracked);
    void tracked.then(() => this.inFlight.delete(tracked));
    return { done };
  }

  /** Resolves once every commit admitted before this call has settled (those admitted later are not waited for). */
  async settled(): Promise<void> {
    if (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      await new Promise<void>((resolve) => this.waitingToRun.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      // Hand the worker and the admission over directly, so neither count ever overshoots.
      const nextToRun = this.waitingToRun.shift();
      if (nextToRun) nextToRun();
      else this.running--;
      const nextAdmitted = this.waitingForRoom.shift();
      if (nextAdmitted) nextAdmitted();
      else this.admitted--;
    }
  }
}
