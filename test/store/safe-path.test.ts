import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import {
  backupPathOf,
  escapeSegment,
  homeserverPathOf,
  MAX_STORED_NAME_BYTES,
  type PathRejection,
  unescapeSegment,
} from '../../src/store/index.js';

const OWNER = Keypair.fromSecret(new Uint8Array(32).fill(7)).publicKey.z32;
const OTHER = Keypair.fromSecret(new Uint8Array(32).fill(8)).publicKey.z32;
const uri = (path: string) => `pubky://${OWNER}${path}`;

describe('backupPathOf', () => {
  const rejections: Array<[string, string, PathRejection]> = [
    ['https address', `https://${OWNER}/pub/a`, 'not-pubky-uri'],
    ['pk: form', `pk:${OWNER}/pub/a`, 'not-pubky-uri'],
    ['short key', 'pubky://abc/pub/a', 'not-pubky-uri'],
    ['uppercase key', `pubky://${OWNER.toUpperCase()}/pub/a`, 'not-pubky-uri'],
    ['other owner', `pubky://${OTHER}/pub/a`, 'foreign-owner'],
    ['no path', `pubky://${OWNER}`, 'outside-pub'],
    ['root', uri('/'), 'outside-pub'],
    ['outside /pub/', uri('/private/a'), 'outside-pub'],
    ['/pub without slash', uri('/pub'), 'outside-pub'],
    ['exactly /pub/', uri('/pub/'), 'outside-pub'],
    ['/pubx/', uri('/pubx/a'), 'outside-pub'],
    ['..', uri('/pub/../etc/passwd'), 'dot-segment'],
    ['trailing ..', uri('/pub/a/..'), 'dot-segment'],
    ['.', uri('/pub/./a'), 'dot-segment'],
    ['//', uri('/pub/a//b'), 'empty-segment'],
    ['trailing /', uri('/pub/a/'), 'empty-segment'],
    ['NUL', uri('/pub/a\0b'), 'nul'],
    ['backslash', uri('/pub/a\\..\\b'), 'backslash'],
    ['newline', uri('/pub/a\nb'), 'control-char'],
    ['DEL', uri('/pub/a\u007fb'), 'control-char'],
    ['C1 control', uri('/pub/a\u0085b'), 'control-char'],
    ['segment > 255 bytes', uri(`/pub/${'é'.repeat(128)}`), 'too-long'],
    ['path > 4096 bytes', uri(`/pub/${`${'a'.repeat(200)}/`.repeat(21)}x`), 'too-long'],
  ];

  it.each(rejections)('rejects %s', (_, input, reason) => {
    const result = backupPathOf(input, OWNER);
    expect(result).toMatchObject({ ok: false, reason });
    if (!result.ok) expect(result.message).not.toBe('');
  });

  it('maps a plain path', () => {
    expect(backupPathOf(uri('/pub/app/file.json'), OWNER)).toEqual({
      ok: true,
      path: '/pub/app/file.json',
      storePath: 'data/pub/app/file.json',
    });
  });

  it('keeps a literal %2e%2e segment as a name (never decodes twice)', () => {
    const result = backupPathOf(uri('/pub/%2e%2e/x'), OWNER);
    expect(result).toEqual({ ok: true, path: '/pub/%2e%2e/x', storePath: 'data/pub/%252e%252e/x' });
    if (result.ok) expect(homeserverPathOf(result.storePath)).toBe('/pub/%2e%2e/x');
  });

  it('keeps spaces, UTF-8 and a lone % verbatim', () => {
    const result = backupPathOf(uri('/pub/files/naïve café 100%.txt'), OWNER);
    expect(result).toMatchObject({ ok: true, storePath: 'data/pub/files/naïve café 100%.txt' });
  });

  it('accepts names that only look like dot segments', () => {
    expect(backupPathOf(uri('/pub/.../.hidden/..x'), OWNER)).toMatchObject({
      ok: true,
      storePath: 'data/pub/..%2E/.hidden/..x',
    });
  });

  it('accepts a 255-byte segment and a 4096-byte path', () => {
    expect(backupPathOf(uri(`/pub/${'a'.repeat(255)}`), OWNER).ok).toBe(true);
    const path = `/pub/${`${'a'.repeat(99)}/`.repeat(40)}${'b'.repeat(91)}`;
    expect(Buffer.byteLength(path)).toBe(4096);
    expect(backupPathOf(uri(path), OWNER).ok).toBe(true);
  });

  it('escapes Windows-hostile names in the store path and reverses them', () => {
    const result = backupPathOf(uri('/pub/CON/a<b>:c"d|e?f*g/trail. /aux.txt/ok'), OWNER);
    expect(result).toMatchObject({
      ok: true,
      storePath: 'data/pub/%43ON/a%3Cb%3E%3Ac%22d%7Ce%3Ff%2Ag/trail.%20/%61ux.txt/ok',
    });
    if (result.ok) expect(homeserverPathOf(result.storePath)).toBe(result.path);
  });
});

describe('escapeSegment', () => {
  it.each([
    ['plain.txt', 'plain.txt'],
    ['100%', '100%'],
    ['50% off', '50% off'],
    ['%zz', '%zz'],
    ['%41', '%2541'],
    ['%4', '%4'],
    ['a.', 'a%2E'],
    ['a ', 'a%20'],
    ['a..', 'a.%2E'],
    ['.', '%2E'],
    ['..', '.%2E'],
    ['CON', '%43ON'],
    ['con', '%63on'],
    ['Nul.tar.gz', '%4Eul.tar.gz'],
    ['com1', '%63om1'],
    ['LPT9.log', '%4CPT9.log'],
    ['con .txt', '%63on .txt'],
    ['console', 'console'],
    ['com10', 'com10'],
    ['xcon', 'xcon'],
    ['tab\there', 'tab%09here'],
  ])('%j → %j', (name, escaped) => {
    expect(escapeSegment(name)).toBe(escaped);
    expect(unescapeSegment(escaped)).toBe(name);
  });

  const segment = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('/'));
  const tricky = fc
    .array(
      fc.constantFrom(
        '%',
        '4',
        '1',
        'e',
        'E',
        'z',
        '.',
        ' ',
        'c',
        'o',
        'n',
        'C',
        'O',
        'N',
        '<',
        '\u0001',
        'a',
        '1',
      ),
      {
        maxLength: 12,
      },
    )
    .map((parts) => parts.join(''));

  it('is reversed by unescapeSegment', () => {
    fc.assert(
      fc.property(fc.oneof(segment, tricky), (s) => unescapeSegment(escapeSegment(s)) === s),
      {
        numRuns: 5000,
      },
    );
  });

  it('never produces what Windows cannot store', () => {
    fc.assert(
      fc.property(fc.oneof(segment, tricky), (s) => {
        const out = escapeSegment(s);
        expect(out).not.toMatch(/[<>:"|?*\\/]/);
        for (const ch of out) expect(ch.charCodeAt(0)).toBeGreaterThanOrEqual(0x20);
        if (out !== '') expect(out).not.toMatch(/[. ]$/);
        expect(out.split('.')[0]).not.toMatch(/^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]) *$/i);
      }),
      { numRuns: 5000 },
    );
  });

  it('leaves names without reserved characters unchanged', () => {
    const ordinary = fc
      .string({ unit: 'grapheme', maxLength: 30 })
      .filter(
        (s) => !/[/%<>:"|?*\\\p{Cc}]|[. ]$/u.test(s) && !/^(con|prn|aux|nul|com.|lpt.)( *)(\.|$)/i.test(s),
      );
    fc.assert(fc.property(ordinary, (s) => escapeSegment(s) === s));
  });
});

describe('homeserverPathOf', () => {
  it('rejects a path outside data/', () => {
    expect(() => homeserverPathOf('versions/pub/a')).toThrow(/data\//);
  });

  it('reads the file a folder shares its name with (%2E inside it) under the folder’s name', () => {
    expect(homeserverPathOf('data/pub/example.com/notes/%2E')).toBe('/pub/example.com/notes');
    expect(homeserverPathOf('data/pub/%252E')).toBe('/pub/%2E');
  });
});

describe('names longer than a file system allows once escaped', () => {
  it('are cut into parts ending in %2F, each fitting with room for a version suffix, and read back whole', () => {
    // 230 characters with colons: 290 bytes once escaped (issue: "dropped as too long").
    const name = `${'a:'.repeat(60)}${'b'.repeat(110)}`;
    const result = backupPathOf(uri(`/pub/${name}`), OWNER);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const parts = result.storePath.split('/').slice(2);
    expect(parts.length).toBe(2);
    expect(parts[0]).toMatch(/%2F$/);
    for (const part of parts) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(MAX_STORED_NAME_BYTES);
    expect(homeserverPathOf(result.storePath)).toBe(`/pub/${name}`);
  });

  it('round-trips every name the homeserver accepts (≤ 255 bytes), never producing %2F or %2E itself', () => {
    const name = fc
      .array(fc.constantFrom('a', 'é', '😀', ':', '?', '%', '%2F', '%2E', '.', ' ', 'con', '/'), {
        minLength: 1,
        maxLength: 120,
      })
      .map((parts) => parts.join('').replaceAll('/', '_'))
      .filter((n) => Buffer.byteLength(n) <= 255 && n !== '.' && n !== '..');
    fc.assert(
      fc.property(name, name, (a, b) => {
        const result = backupPathOf(uri(`/pub/${a}/${b}`), OWNER);
        if (!result.ok) return;
        expect(homeserverPathOf(result.storePath)).toBe(`/pub/${a}/${b}`);
        for (const part of result.storePath.split('/').slice(1)) {
          expect(Buffer.byteLength(part)).toBeLessThanOrEqual(MAX_STORED_NAME_BYTES);
          expect(part).not.toBe('%2E');
          expect(part.slice(0, -3)).not.toContain('%2F');
          expect(part.split('.')[0]).not.toMatch(/^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]) *$/i);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
