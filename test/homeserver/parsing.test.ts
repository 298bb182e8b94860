import { describe, expect, it } from 'vitest';
import {
  canonicalBlake3,
  compareCursors,
  encodePathForUrl,
  type FeedEvent,
  HomeserverError,
  homeserverBaseUrl,
  isCursor,
  isMissingRoute,
  kindOfStatus,
  parseEventsPage,
  parseFeedLine,
  parseListing,
  parseRetryAfter,
  parseSseEvent,
} from '../../src/homeserver/index.js';

const KEY = 'o1gg96ewuojmopcjbz8895478wdtxtzzuxnfjjz8o8e77csa1ngo';
const HASH = 'r0NJufX5oaagQE3qNtzJSZvLJcmtwRK3zJqTyuQfMmI=';

const HEX = Buffer.from(HASH, 'base64').toString('hex');

describe('parseFeedLine', () => {
  it('splits at the first space only and keeps the decoded path verbatim', () => {
    expect(parseFeedLine(`PUT pubky://${KEY}/pub/files/naïve café.txt`)).toEqual({
      type: 'PUT',
      uri: `pubky://${KEY}/pub/files/naïve café.txt`,
      owner: KEY,
      path: '/pub/files/naïve café.txt',
    });
    expect((parseFeedLine(`DEL pubky://${KEY}/pub/%2e%2e/a b  c`) as FeedEvent).path).toBe(
      '/pub/%2e%2e/a b  c',
    );
  });

  it('keeps escapes and foreign authorities for the sync engine to judge', () => {
    expect((parseFeedLine(`PUT pubky://${KEY}/pub/../../etc/passwd`) as FeedEvent).path).toBe(
      '/pub/../../etc/passwd',
    );
    const odd = parseFeedLine('PUT pubky://not-a-key/pub/x') as FeedEvent;
    expect(odd.owner).toBeUndefined();
    expect(odd.path).toBe('/pub/x');
  });

  it('sets unknown verbs and non-pubky URIs aside, never throws', () => {
    expect(parseFeedLine(`PATCH pubky://${KEY}/pub/x`)).toMatchObject({
      type: 'SKIPPED',
      reason: 'unknown event line',
    });
    expect(parseFeedLine('PUT https://example.com/pub/x')).toMatchObject({ type: 'SKIPPED' });
    expect(parseFeedLine('')).toMatchObject({ type: 'SKIPPED' });
  });
});

describe('parseEventsPage', () => {
  it('reads events and the trailing cursor; cursors beyond 2^53 stay exact', () => {
    const page = parseEventsPage(
      `PUT pubky://${KEY}/pub/a\nDEL pubky://${KEY}/pub/b\ncursor: 18446744073709551615`,
    );
    expect(page.events.map((e) => `${e.type} ${e.path}`)).toEqual(['PUT /pub/a', 'DEL /pub/b']);
    expect(page.cursor).toBe('18446744073709551615');
    expect(compareCursors('9007199254740993', '9007199254740992')).toBe(1);
  });

  it('every feed format shipped: empty pages, cursor lines with no value, CRLF, legacy timestamp cursors', () => {
    expect(parseEventsPage('')).toEqual({ events: [], skipped: [] });
    expect(parseEventsPage('cursor: ')).toEqual({ events: [], skipped: [] });
    expect(parseEventsPage('cursor: 12\n')).toEqual({ events: [], skipped: [], cursor: '12' });
    const crlf = parseEventsPage(`PUT pubky://${KEY}/pub/a\r\ncursor: 3\r\n`);
    expect(crlf.events[0]?.path).toBe('/pub/a');
    expect(crlf.cursor).toBe('3');
    expect(parseEventsPage(`PUT pubky://${KEY}/pub/a\ncursor: 0033RCZXVEPNG`).cursor).toBe('0033RCZXVEPNG');
  });

  it('one bad line never hides the others: unknown lines and unreadable cursors are skipped', () => {
    const page = parseEventsPage(
      `PUT pubky://${KEY}/pub/a\nMOVE pubky://${KEY}/pub/b\nhello\nDEL pubky://${KEY}/pub/c\ncursor: 12abc\ncursor: 9`,
    );
    expect(page.events.map((e) => e.path)).toEqual(['/pub/a', '/pub/c']);
    expect(page.skipped.map((s) => s.reason)).toEqual([
      'unknown event line',
      'unknown event line',
      'unreadable cursor line',
    ]);
    expect(page.cursor).toBe('9');
  });
});

describe('cursors', () => {
  it('event ids and legacy timestamp cursors; styles do not compare', () => {
    expect(isCursor('0')).toBe(true);
    expect(isCursor('18446744073709551616')).toBe(false);
    expect(isCursor('0033RCZXVEPNG')).toBe(true);
    expect(isCursor('0033rczxvepng')).toBe(false);
    expect(compareCursors('0033RCZXVEPNG', '0033RCZXVEPNH')).toBe(-1);
    expect(compareCursors('12', '0033RCZXVEPNG')).toBeUndefined();
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

  it('content_hash as 64 hex characters (older homeservers) is the same hash as base64', () => {
    const data = `pubky://${KEY}/pub/a\ncursor: 1\ncontent_hash: ${HEX}`;
    expect(parseSseEvent({ event: 'PUT', data })).toMatchObject({ contentHash: HASH });
    const upper = `pubky://${KEY}/pub/a\ncursor: 1\ncontent_hash: ${HEX.toUpperCase()}`;
    expect(parseSseEvent({ event: 'PUT', data: upper })).toMatchObject({ contentHash: HASH });
  });

  it('sets aside unknown types and missing cursors (keeping a cursor it could read); drops a bad hash', () => {
    expect(parseSseEvent({ data: `pubky://${KEY}/pub/x\ncursor: 1` })).toMatchObject({
      type: 'SKIPPED',
      reason: 'unknown event type',
      cursor: '1',
    });
    expect(parseSseEvent({ event: 'PUT', data: `pubky://${KEY}/pub/x` })).toMatchObject({ type: 'SKIPPED' });
    expect(parseSseEvent({ event: 'PUT', data: `pubky://${KEY}/pub/x\ncursor: -1` })).toMatchObject({
      type: 'SKIPPED',
    });
    const noHash = parseSseEvent({ event: 'PUT', data: `pubky://${KEY}/pub/x\ncursor: 1\ncontent_hash: zz` });
    expect(noHash).toMatchObject({ type: 'PUT', cursor: '1' });
    expect((noHash as FeedEvent).contentHash).toBeUndefined();
  });
});

describe('canonicalBlake3', () => {
  it('hex and base64 (standard or URL-safe, padded or not) give one text; anything else nothing', () => {
    expect(canonicalBlake3(HEX)).toBe(HASH);
    expect(canonicalBlake3(HASH)).toBe(HASH);
    expect(canonicalBlake3(HASH.replace(/=$/, ''))).toBe(HASH);
    expect(canonicalBlake3(HASH.replace(/\+/g, '-').replace(/\//g, '_'))).toBe(HASH);
    expect(canonicalBlake3('abc')).toBeUndefined();
    expect(canonicalBlake3(`${HEX}00`)).toBeUndefined();
    expect(canonicalBlake3('W/"1234"')).toBeUndefined();
  });
});

describe('parseListing', () => {
  it('entries of the user; foreign lines skipped; a trailing newline tolerated', () => {
    const page = parseListing(`pubky://${KEY}/pub/a\npubky://other/pub/b\npubky://${KEY}/pub/c/\n`, KEY);
    expect(page.paths).toEqual(['/pub/a', '/pub/c/']);
    expect(page.skipped).toHaveLength(1);
    expect(page.lines.at(-1)).toBe(`pubky://${KEY}/pub/c/`);
  });
});

describe('homeserverBaseUrl', () => {
  it('drops a pasted /pub/ path, feed routes, queries; keeps a proxy prefix', () => {
    expect(homeserverBaseUrl('http://127.0.0.1:6286/pub/')).toEqual({
      url: 'http://127.0.0.1:6286',
      dropped: '/pub/',
    });
    expect(homeserverBaseUrl('https://hs.example/pub/pubky.app/posts/1')).toMatchObject({
      url: 'https://hs.example',
    });
    expect(homeserverBaseUrl('https://hs.example/events/?cursor=3')).toEqual({
      url: 'https://hs.example',
      dropped: '/events/?cursor=3',
    });
    expect(homeserverBaseUrl('https://example.com/homeserver/')).toEqual({
      url: 'https://example.com/homeserver',
    });
    expect(homeserverBaseUrl('https://hs.example')).toEqual({ url: 'https://hs.example' });
  });

  it('refuses what cannot be a homeserver address, with a reason', () => {
    expect(() => homeserverBaseUrl('hs.example')).toThrow(/not a URL/);
    expect(() => homeserverBaseUrl('ftp://hs.example')).toThrow(/http/);
    expect(() => homeserverBaseUrl('https://u:p@hs.example')).toThrow(/password/);
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
