import { Keypair as SdkKeypair, PublicKey as SdkPublicKey } from '@synonymdev/pubky';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z32 from 'z32';
import { isPubky, Keypair, PubkyParseError, PublicKey, parsePubky } from '../../src/identity/index.js';
import { thrown } from '../helpers/errors.js';

// The static testnet homeserver's key: the public key of 32 zero bytes (protocol.md §7).
const TESTNET_HOMESERVER = '8pinxxgqs41n4aididenw5apqp1urfmzdztr8jt4abrkdn435ewo';
const KEY = Keypair.fromSecret(new Uint8Array(32).fill(7)).publicKey.z32;

function rejection(text: unknown): PubkyParseError {
  return thrown(() => parsePubky(text), PubkyParseError, `accepted ${String(text)}`);
}

/** A canonical 52-character z32 text whose bytes are not an ed25519 point (found by trying seeds). */
function nonPointKeyText(): string {
  for (let i = 0; i < 256; i++) {
    const bytes = new Uint8Array(32).fill(i);
    bytes[31] = 0x10; // keep y < p so the only problem is "not on the curve"
    const text = z32.encode(bytes);
    let sdkAccepts = true;
    try {
      SdkPublicKey.from(text);
    } catch {
      sdkAccepts = false;
    }
    if (!sdkAccepts) return text;
  }
  throw new Error('no off-curve key found');
}

describe('parsePubky accepts every form a user may paste', () => {
  const forms: Array<[string, string]> = [
    ['bare z32', KEY],
    ['pubky prefix', `pubky${KEY}`],
    ['pk: prefix', `pk:${KEY}`],
    ['pubky:// URL', `pubky://${KEY}`],
    ['pubky:// URL with path', `pubky://${KEY}/pub/pubky.app/profile.json`],
    ['pubky prefix with path', `pubky${KEY}/pub/pubky.app/posts/0033`],
    ['bare key with path', `${KEY}/pub/`],
    ['profile link', `https://pubky.app/profile/${KEY}`],
    ['profile link with trailing slash and query', `https://pubky.app/profile/${KEY}/?tab=posts#top`],
    ['profile link with pubky-prefixed segment', `https://example.org/u/pubky${KEY}`],
    ['http link', `http://localhost:3000/${KEY}`],
    ['_pubky domain', `_pubky.${KEY}`],
    ['key as a host name', `https://${KEY}/pub/file`],
    ['surrounding whitespace and newline', `  \t${KEY}\n`],
    ['upper case', KEY.toUpperCase()],
    ['PUBKY:// upper-case scheme', `PUBKY://${KEY}`],
  ];
  it.each(forms)('%s', (_name, text) => {
    const key = parsePubky(text);
    expect(key.z32).toBe(KEY);
    expect(key.bytes).toHaveLength(32);
    expect(key.toDisplay()).toBe(`pubky${KEY}`);
    expect(isPubky(text)).toBe(true);
  });

  it('derives the testnet homeserver key from 32 zero bytes, as the official SDK does', () => {
    const ours = Keypair.fromSecret(new Uint8Array(32)).publicKey.z32;
    const theirs = SdkKeypair.fromSecret(new Uint8Array(32)).publicKey.z32();
    expect(ours).toBe(TESTNET_HOMESERVER);
    expect(theirs).toBe(TESTNET_HOMESERVER);
  });
});

describe('parsePubky rejects with a plain reason', () => {
  it('non-text input', () => {
    expect(rejection(42).code).toBe('NOT_TEXT');
    expect(rejection(undefined).code).toBe('NOT_TEXT');
  });

  it('empty or blank text', () => {
    expect(rejection('').code).toBe('EMPTY');
    expect(rejection('   \n').message).toMatch(/empty/);
  });

  it('too short, saying the length seen', () => {
    const error = rejection(KEY.slice(0, 40));
    expect(error.code).toBe('WRONG_LENGTH');
    expect(error.message).toContain('52');
    expect(error.message).toContain('40');
  });

  it('too long, saying the length seen', () => {
    const error = rejection(`${KEY}yy`);
    expect(error.code).toBe('WRONG_LENGTH');
    expect(error.message).toContain('54');
  });

  it('a pubky prefix with a short key reports the key length, not the prefix', () => {
    expect(rejection(`pubky${KEY.slice(0, 50)}`).message).toContain('has 50');
  });

  it.each([
    ['0', 'zero'],
    ['l', 'letter l'],
    ['v', 'letter v'],
    ['2', 'digit 2'],
    ['-', 'dash'],
    [' ', 'inner space'],
  ])('invalid character %j (%s) with its position', (bad) => {
    const text = `${KEY.slice(0, 10)}${bad}${KEY.slice(11)}`;
    const error = rejection(text);
    expect(error.code).toBe('INVALID_CHARACTER');
    expect(error.message).toContain(`"${bad}"`);
    expect(error.message).toContain('position 11');
  });

  it('positions count from the start of the pasted text, prefix included', () => {
    const error = rejection(`pk:${KEY.slice(0, 5)}0${KEY.slice(6)}`);
    expect(error.message).toContain('position 9');
  });

  it('control characters are named by code point', () => {
    expect(rejection(`${KEY.slice(0, 3)}\u0000${KEY.slice(4)}`).message).toContain('U+0000');
  });

  it('a last character that cannot end a 256-bit key', () => {
    const error = rejection(`${KEY.slice(0, 51)}x`);
    expect(error.code).toBe('NOT_CANONICAL');
  });

  it('a well-formed key that is not an ed25519 point (the SDK agrees)', () => {
    const text = nonPointKeyText();
    const error = rejection(text);
    expect(error.code).toBe('NOT_ED25519_KEY');
    expect(error.message).toMatch(/not a valid ed25519/);
  });

  it.each([
    'http://localhost:6286',
    'https://homeserver.pubky.app/',
    'homeserver.pubky.app',
    'https://pubky.app/profile/',
    'https://pubky.app/profile/abc',
  ])('a web address with no key in it: %s', (text) => {
    const error = rejection(text);
    expect(error.code).toBe('ADDRESS_WITHOUT_PUBKY');
    expect(error.message).toContain('--homeserver');
  });

  it('pubky:// with nothing after it', () => {
    expect(rejection('pubky://').code).toBe('WRONG_LENGTH');
  });
});

describe('parsePubky properties', () => {
  const keyBytes = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((seed) => Keypair.fromSecret(seed));

  it('every form of every key round-trips to the same canonical key', () => {
    fc.assert(
      fc.property(
        keyBytes,
        fc.constantFrom('', 'pubky', 'pk:', 'pubky://', 'https://pubky.app/profile/'),
        (kp, prefix) => {
          const key = kp.publicKey;
          expect(parsePubky(`${prefix}${key.z32}`).z32).toBe(key.z32);
          expect(PublicKey.fromBytes(parsePubky(key.toDisplay()).bytes).equals(key)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('agrees with the official SDK on which 52-character texts are keys', () => {
    const z32Text = fc.string({ unit: fc.constantFrom(...z32.ALPHABET), minLength: 52, maxLength: 52 });
    // Only 1 in 16 random texts ends in a character a 256-bit key can end in; make those common.
    const canonicalEnding = fc
      .tuple(z32Text, fc.constantFrom('y', 'o'))
      .map(([text, last]) => `${text.slice(0, 51)}${last}`);
    fc.assert(
      fc.property(fc.oneof(z32Text, canonicalEnding), (text) => {
        let sdk: string | undefined;
        try {
          sdk = SdkPublicKey.from(text).z32();
        } catch {
          sdk = undefined;
        }
        // The SDK ignores the unused low bits of the last character; we insist on the canonical text.
        const canonical = sdk === text;
        expect(isPubky(text)).toBe(canonical);
      }),
      { numRuns: 300 },
    );
  });

  it('random text never throws anything but PubkyParseError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.webUrl()), (text) => {
        try {
          parsePubky(text);
        } catch (error) {
          expect(error).toBeInstanceOf(PubkyParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
