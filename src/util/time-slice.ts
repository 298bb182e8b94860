import { setImmediate as nextTurn } from 'node:timers/promises';

/** Longest stretch of synchronous work before other tasks get a turn (ms). */
const SLICE_MS = 10;

/**
 * Lets a loop of small synchronous system calls (many tiny files in the page cache cost far less
 * on the calling thread than through libuv's thread pool) give the event loop a turn every
 * ~10 ms, so timers, sockets and other work keep moving.
 */
export class TimeSlicer {
  private started = performance.now();

  /** A promise to await when the slice is used up, else undefined (no await needed). */
  check(): Promise<void> | undefined {
    if (performance.now() - this.started < SLICE_MS) return undefined;
    return nextTurn().then(() => {
      this.started = performance.now();
    });
  }
}
