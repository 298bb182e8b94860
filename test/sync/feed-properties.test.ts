import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareCursors,
  type FeedEntry,
  type HomeserverClient,
  HomeserverError,
  isCursor,
  parseEventsPage,
  parseListing,
  parseSseEvent,
} from '../../src/homeserver/index.js';
import { Keypair } from '../../src/identity/index.js';
import { homeserverEndpoints, PkarrPacketError, pubkyTargetOf, SignedPacket } from '../../src/pkdns/index.js';
import { DATA_PREFIX, homeserverPathOf } from '../../src/store/index.js';
import { planBatch } from '../../src/sync/batch.js';
import { FeedReader } from '../../src/sync/feed.js';

const OWNER = Keypair.fromSecret(new Uint8Array(32).fill(5)).publicKey.z32;
const OTHER = Keypair.fromSecret(new Uint8Array(32).fill(6)).publicKey.z32;

// Path pieces a hostile homeserver would try, mixed with ordinary ones.
const piece = fc.constantFrom(
  'pub',
  'a',
  '..',
  '.',
  '',
  '%2e%2e',
  'a\\b',
  'a\0b',
  'x\ny',
  'con',
  'é',
  ' ',
  'priv',
  'a'.repeat(300),
  '%2F',
  '%2E',
);
const path = fc.array(piece, { maxLength: 6 }).map((parts) => `/${parts.join('/')}`);
const uri = fc.oneof(
  path.map((p) => `pubky://${OWNER}${p}`),
  path.map((p) => `pubky://${OTHER}${p}`),
  path.map((p) => `pubky://not-a-key${p}`),
  path.map((p) => `https://evil${p}`),
  fc.string(),
);
const cursorText = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String),
  fc.constantFrom('', '-1', '0033RCZXVEPNG', 'abc', ' 7', '1.5'),
);
const line = fc.oneof(
  fc.tuple(fc.constantFrom('PUT', 'DEL', 'MOVE', 'put', ''), uri).map(([verb, u]) => `${verb} ${u}`),
  cursorText.map((c) => `cursor: ${c}`),
  fc.string(),
);

/** Store paths must stay below data/pub/ with no way out. */
function assertSafe(storePath: string): void {
  const segments = storePath.split('/');
  expect(segments[0]).toBe(DATA_PREFIX);
  expect(segments[1]).toBe('pub');
  for (const segment of segments) {
    expect(segment).not.toBe('');
    expect(segment).not.toBe('.');
    expect(segment).not.toBe('..');
    expect(segment).not.toMatch(/[\\/]/);
    expect([...segment].some((ch) => ch.charCodeAt(0) < 0x20)).toBe(false);
  }
}

describe('feed parsers (property tests)', () => {
  it('/events/ pages: no exception escapes, every unsafe path is set aside', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), fc.constantFrom('\n', '\r\n'), (lines, eol) => {
        const page = parseEventsPage(lines.join(eol));
        if (page.cursor !== undefined) expect(isCursor(page.cursor)).toBe(true);
        for (const change of planBatch(OWNER, page.events).changes) {
          assertSafe(change.storePath);
          expect(homeserverPathOf(change.storePath)).toBe(change.path);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('SSE messages: no exception escapes; an event always has a readable cursor', () => {
    const data = fc.array(
      fc.oneof(
        uri,
        cursorText.map((c) => `cursor: ${c}`),
        fc.string().map((h) => `content_hash: ${h}`),
        fc.string(),
      ),
      { maxLength: 5 },
    );
    fc.assert(
      fc.property(
        fc.option(fc.constantFrom('PUT', 'DEL', 'message', ''), { nil: undefined }),
        data,
        (event, lines) => {
          const entry = parseSseEvent({ event, data: lines.join('\n') });
          if (entry.type !== 'SKIPPED') {
            expect(isCursor(entry.cursor as string)).toBe(true);
            for (const change of planBatch(OWNER, [entry]).changes) assertSafe(change.storePath);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('listings: no exception escapes; only the user’s entries come out', () => {
    fc.assert(
      fc.property(fc.array(uri, { maxLength: 20 }), (raw) => {
        // A listing line cannot hold a line break: the homeserver refuses control characters.
        const lines = raw.map((l) => l.replace(/[\r\n]/g, '_'));
        const page = parseListing(lines.join('\n'), OWNER);
        for (const p of page.paths) expect(lines).toContain(`pubky://${OWNER}${p}`);
      }),
    );
  });

  it('pkarr packets: random bytes give a packet or a PkarrPacketError, and its records never throw', () => {
    const key = Keypair.fromSecret(new Uint8Array(32).fill(1));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        let packet: SignedPacket;
        try {
          packet = SignedPacket.fromRelayPayload(key.publicKey, bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(PkarrPacketError);
          return;
        }
        homeserverEndpoints(packet);
        pubkyTargetOf(packet);
      }),
      { numRuns: 2000 },
    );
  });
});

/** A homeserver client whose feed is whatever the property gives, page after page. */
function fakeClient(pages: FeedEntry[][], legacy: boolean): HomeserverClient {
  let next = 0;
  const take = () => pages[Math.min(next++, pages.length - 1)] ?? [];
  return {
    baseUrl: 'http://fake',
    async *eventsStream() {
      if (legacy) throw new HomeserverError('not-found', 'http://fake', 'no route', { missingRoute: true });
      yield* take();
    },
    async eventsPage() {
      const entries = take();
      const events = entries.filter((e) => e.type !== 'SKIPPED');
      const cursors = entries.map((e) => e.cursor).filter((c): c is string => c !== undefined);
      return { events, skipped: [], cursor: cursors.at(-1) };
    },
  } as unknown as HomeserverClient;
}

describe('reading a feed never loops without progress (property test)', () => {
  const entry: fc.Arbitrary<FeedEntry> = fc
    .tuple(
      fc.constantFrom<'PUT' | 'DEL' | 'SKIPPED'>('PUT', 'DEL', 'SKIPPED'),
      fc.option(fc.integer({ min: 0, max: 40 })),
    )
    .map(([type, cursor]) =>
      type === 'SKIPPED'
        ? { type, text: 'x', reason: 'test', ...(cursor !== null && { cursor: String(cursor) }) }
        : {
            type,
            uri: `pubky://${OWNER}/pub/f`,
            owner: OWNER,
            path: '/pub/f',
            ...(cursor !== null && { cursor: String(cursor) }),
          },
    );

  it('every batch either moves the cursor forward, is the head, or throws a HomeserverError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(entry, { maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        async (pages, legacy) => {
          const reader = new FeedReader(fakeClient(pages, legacy), OWNER, 4);
          let cursor = '0';
          for (let round = 0; round < 20; round++) {
            let batch: Awaited<ReturnType<FeedReader['next']>>;
            try {
              batch = await reader.next(cursor);
            } catch (error) {
              expect(error).toBeInstanceOf(HomeserverError);
              return;
            }
            if (batch.complete) return;
            expect(compareCursors(batch.cursor, cursor)).toBe(1);
            cursor = batch.cursor;
          }
          throw new Error('20 full batches from at most 6 pages: the reader looped');
        },
      ),
      { numRuns: 500 },
    );
  });
});
