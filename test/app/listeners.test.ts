import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { HomeserverError } from '../../src/homeserver/index.js';
import { withFeedRetries } from '../../src/sync/retry-policy.js';
import { sleep } from '../../src/util/sleep.js';

// A daemon lives for months on one shutdown signal: waiting must not leave a listener behind.
describe('abort listeners stay flat', () => {
  it('1,000 sleeps on one signal leave no abort listener', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 1000; i++) await sleep(0, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('1,000 feed retries on one signal leave no abort listener', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 200; i++) {
      let attempts = 0;
      await withFeedRetries(
        async () => {
          attempts++;
          // five 503s with Retry-After 0: 4 retries each, 800 sleeps in all
          if (attempts < 5)
            throw new HomeserverError('server', 'http://h', '503', { status: 503, retryAfterMs: 0 });
          return attempts;
        },
        { signal: controller.signal },
      );
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('an aborted sleep rejects at once and leaves nothing', async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
