import { describe, expect, it } from 'vitest';
import {
  compareCursors,
  encodePathForUrl,
  HomeserverError,
  isMissingRoute,
  kindOfStatus,
  parseFeedCursor,
  parseFeedLine,
  parseRetryAfter,
  parseSseEvent,
} from '../../src/homeserver/index.js';
import { thrown } from '../helpers/errors.js';

const KEY = 'o1gg96ewuojmopcjbz8895478wdtxtzzuxnfjjz8o8e77csa1ngo';
const HASH = 'r0NJufX5oaagQE3qNtzJSZvLJcmtwRK3zJqTyuQfMmI=';

describe('parseFeedLine', () => {
  it('splits at the first space only and keeps the decoded path verbatim', () => {
    expect(parseFeedLine(`PUT pubky://${KEY}/pub/files/naïve café.txt`)).toEqual({
      type: 'PUT',
      uri: `pubky://${KEY}/pub/files/naïve café.txt`,
      owner: KEY,
      path: '/pub/files/naïve café.txt',
    });
    expect(parseFeedLine(`DEL pubky://${KEY}/pub/%2e%2e/a b  c`).path).toBe('/pub/%2e%2e/a b  c');
  });

  it('keeps escapes and foreign authorities for the sync engine to judge', () => {
    expect(parseFeedLine(`PUT pubky://${KEY}/pub/../../etc/passwd`).path).toBe('/pub/../../etc/passwd');
    const odd = parseFeedLine('PUT pubky://not-a-key/pub/x');
    expect(odd.owner).toBeUndefined();
    expect(odd.path).toBe('/pub/x');
  });

  it('throws a protocol error for unknown verbs and non-pubky URIs', () => {
    expect(thrown(() => parseFeedLine(`PATCH pubky://${KEY}/pub/x`), HomeserverError).kind).toBe('protocol');
    expect(thrown(() => parseFeedLine('PUT https://example.com/pub/x'), HomeserverError).kind).toBe(
      'protocol',
    );
    expect(thrown(() => parseFeedLine(''), HomeserverError).kind).toBe('protocol');
  });

  it('reads cursor lines as decimal strings, beyond 2^53', () => {
    expect(parseFeedCursor('cursor: 18446744073709551615')).toBe('18446744073709551615');
    expect(parseFeedCursor(`PUT pubky://${KEY}/pub/x`)).toBeUndefined();
    expect(thrown(() => parseFeedCursor('cursor: 12abc'), HomeserverError).kind).toBe('protocol');
    expect(thrown(() => parseFeedCursor('cursor: 18446744073709551616'), HomeserverError).kind).toBe(
      'protocol',
    );
    expect(compareCursors('9007199254740993', '9007199254740992')).toBe(1);
  });
});

describe('parseSseEvent', () => {
  it('reads the URI, cursor and content_hash data lines', () => {
    const data = `pubky://${KEY}/pub/a b.txt\ncursor: 42\ncontent_hash: ${HASH}`;
    expect(parseSseEvent({ event: 'PUT', data })).toEqual({
      type: 'PUT',
      uri: `pubky://${KEY}/pub/a b.txt`,
      owner: KEY,
      path: '/pub/a b.txt',
      cursor: '42',
      contentHash: HASH,
    });
    expect(parseSseEvent({ event: 'DEL', data: `pubky://${KEY}/pub/x\ncursor: 7\nfuture_field: y` })).toEqual(
      {
        type: 'DEL',
        uri: `pubky://${KEY}/pub/x`,
        owner: KEY,
        path: '/pub/x',
        cursor: '7',
      },
    );
  });

  it('rejects unknown types, missing or bad cursors and bad hashes', () => {
    expect(
      thrown(() => parseSseEvent({ data: `pubky://${KEY}/pub/x\ncursor: 1` }), HomeserverError).kind,
    ).toBe('protocol');
    expect(
      thrown(() => parseSseEvent({ event: 'PUT', data: `pubky://${KEY}/pub/x` }), HomeserverError).kind,
    ).toBe('protocol');
    expect(
      thrown(() => parseSseEvent({ event: 'PUT', data: `pubky://${KEY}/pub/x\ncursor: -1` }), HomeserverError)
        .kind,
    ).toBe('protocol');
    expect(
      thrown(
        () => parseSseEvent({ event: 'PUT', data: `pubky://${KEY}/pub/x\ncursor: 1\ncontent_hash: zz` }),
        HomeserverError,
      ).kind,
    ).toBe('protocol');
  });
});

describe('encodePathForUrl', () => {
  it('percent-encodes each segment of a decoded path, once', () => {
    expect(encodePathForUrl('/pub/naïve café.txt')).toBe('/pub/na%C3%AFve%20caf%C3%A9.txt');
    expect(encodePathForUrl('/pub/%2e%2e/a%20b')).toBe('/pub/%252e%252e/a%2520b');
    expect(encodePathForUrl('/pub/q?x#y/')).toBe('/pub/q%3Fx%23y/');
    expect(encodePathForUrl('/pub/😀')).toBe('/pub/%F0%9F%98%80');
  });

  it('refuses paths a URL cannot carry', () => {
    expect(() => encodePathForUrl('pub/x')).toThrow(RangeError);
    expect(() => encodePathForUrl('/pub/../x')).toThrow(RangeError);
    expect(() => encodePathForUrl('/pub/\ud800')).toThrow(RangeError);
  });
});

describe('errors', () => {
  it('maps statuses to kinds', () => {
    expect([404, 429, 401, 403, 500, 503, 400, 409, 413].map(kindOfStatus)).toEqual([
      'not-found',
      'rate-limited',
      'auth',
      'auth',
      'server',
      'server',
      'client',
      'client',
      'client',
    ]);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('isMissingRoute: the probe verdict wins, else the body decides', () => {
    const notFound = (body: string, missingRoute?: boolean) =>
      new HomeserverError('not-found', 'http://h/events-stream', 'x', { status: 404, body, missingRoute });
    expect(isMissingRoute(notFound('Not Found', false))).toBe(false);
    expect(isMissingRoute(notFound('Not Found', true))).toBe(true);
    expect(isMissingRoute(notFound('User not found: abc'))).toBe(false);
    expect(isMissingRoute(notFound('Pubky Host is missing'))).toBe(true);
    expect(isMissingRoute(new HomeserverError('server', 'http://h', 'x', { status: 503 }))).toBe(false);
    expect(isMissingRoute(new Error('x'))).toBe(false);
  });
});
