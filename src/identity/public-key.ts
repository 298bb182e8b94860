import { ed25519 } from '@noble/curves/ed25519.js';
import * as z32 from 'z32';
import { PubkyParseError } from './errors.js';

/** Length of a 32-byte key in z-base-32 (256 bits / 5, rounded up). */
export const Z32_KEY_LENGTH = 52;
const PUBKY_PREFIX = 'pubky';

/** An ed25519 public key: the identity of a Pubky user or homeserver. */
export class PublicKey {
  private constructor(
    readonly bytes: Uint8Array,
    readonly z32: string,
  ) {}

  /** Builds a key from 32 raw bytes; rejects bytes that are not an ed25519 point. */
  static fromBytes(bytes: Uint8Array): PublicKey {
    if (bytes.length !== 32) {
      throw new PubkyParseError('WRONG_LENGTH', `A public key has 32 bytes, got ${bytes.length}.`);
    }
    const text = z32.encode(bytes);
    assertEd25519Point(bytes, text);
    return new PublicKey(Uint8Array.from(bytes), text);
  }

  /** Parses any form a user may paste; see `parsePubky`. */
  static parse(text: string): PublicKey {
    return parsePubky(text);
  }

  /** Display form used by pubky apps: `pubky<z32>`. Storage and transport use `z32`. */
  toDisplay(): string {
    return `${PUBKY_PREFIX}${this.z32}`;
  }

  toString(): string {
    return this.z32;
  }

  equals(other: PublicKey): boolean {
    return this.z32 === other.z32;
  }
}

/** Where the key text sits inside the trimmed input, so errors can point at a position. */
interface Candidate {
  text: string;
  offset: number;
}

/**
 * Parses a pubky from any form a user may paste: `<z32>`, `pubky<z32>`, `pk:<z32>`,
 * `pubky://<z32>[/pub/…]`, `<z32>/pub/…`, `https://…/<z32>` profile links, `_pubky.<z32>`,
 * with surrounding whitespace. Throws `PubkyParseError` (and nothing else) with a plain reason.
 */
export function parsePubky(input: unknown): PublicKey {
  if (typeof input !== 'string') {
    throw new PubkyParseError('NOT_TEXT', `Expected a pubky as text, got ${typeof input}.`);
  }
  const trimmed = input.trim();
  if (trimmed === '') {
    throw new PubkyParseError('EMPTY', 'No pubky given: the text is empty.');
  }
  const candidate = locateKeyText(trimmed);
  return decodeKeyText(candidate);
}

/** True when `parsePubky` would accept the text. */
export function isPubky(input: unknown): boolean {
  try {
    parsePubky(input);
    return true;
  } catch {
    return false;
  }
}

function locateKeyText(trimmed: string): Candidate {
  const lower = trimmed.toLowerCase();
  if (lower.startsWith('pubky://')) return upToPathEnd(trimmed, 'pubky://'.length);
  if (lower.startsWith('pk:')) return upToPathEnd(trimmed, 'pk:'.length);
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(lower)) return keyInAddress(trimmed);
  const bare = upToPathEnd(trimmed, 0);
  // A bare key may itself begin with "pubky"; only a 52-character text is read as bare then.
  if (lower.startsWith(PUBKY_PREFIX) && bare.text.length !== Z32_KEY_LENGTH) {
    return upToPathEnd(trimmed, PUBKY_PREFIX.length);
  }
  // A dotted name (`homeserver.example`, `_pubky.<z32>`) is an address, not a bare key.
  if (bare.text.includes('.')) return keyInAddress(trimmed);
  return bare;
}

/** The text from `start` up to the first `/`, `?` or `#`. */
function upToPathEnd(text: string, start: number): Candidate {
  const rest = text.slice(start);
  const end = rest.search(/[/?#]/);
  return { text: end === -1 ? rest : rest.slice(0, end), offset: start };
}

/** Finds a key in a URL or domain: a path segment (last first), then a host label. */
function keyInAddress(trimmed: string): Candidate {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed);
  let url: URL | undefined;
  try {
    url = new URL(hasScheme ? trimmed : `https://${trimmed}`);
  } catch {
    url = undefined;
  }
  if (url) {
    const segments = url.pathname.split('/').filter(Boolean).reverse();
    const labels = url.hostname.split('.');
    for (const part of [...segments, ...labels]) {
      const key = stripPubkyPrefix(safeDecode(part));
      if (key.length === Z32_KEY_LENGTH) return { text: key, offset: Math.max(0, trimmed.indexOf(key)) };
    }
  }
  throw new PubkyParseError(
    'ADDRESS_WITHOUT_PUBKY',
    `"${trimmed}" is a web address without a pubky in it. If it is a homeserver, pass it with ` +
      '--homeserver; here enter the user\'s pubky (52 characters, e.g. "pubky" followed by the key).',
  );
}

function stripPubkyPrefix(text: string): string {
  return text.length === PUBKY_PREFIX.length + Z32_KEY_LENGTH && text.toLowerCase().startsWith(PUBKY_PREFIX)
    ? text.slice(PUBKY_PREFIX.length)
    : text;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function decodeKeyText({ text, offset }: Candidate): PublicKey {
  // z-base-32 has only lowercase letters, so folding case loses nothing.
  const key = text.toLowerCase();
  for (let i = 0; i < key.length; i++) {
    const ch = key.charAt(i);
    if (!z32.ALPHABET.includes(ch)) {
      throw new PubkyParseError(
        'INVALID_CHARACTER',
        `Invalid character ${describeChar(text.charAt(i))} at position ${offset + i + 1}: a pubky uses only ` +
          `z-base-32 letters (${z32.ALPHABET}).`,
      );
    }
  }
  if (key.length !== Z32_KEY_LENGTH) {
    throw new PubkyParseError(
      'WRONG_LENGTH',
      `A pubky has ${Z32_KEY_LENGTH} characters, this one has ${key.length}` +
        `${key.length < Z32_KEY_LENGTH ? ' (is part of it missing?)' : ''}.`,
    );
  }
  const bytes = z32.decode(key).subarray(0, 32);
  if (z32.encode(bytes) !== key) {
    throw new PubkyParseError(
      'NOT_CANONICAL',
      `The last character "${key.charAt(Z32_KEY_LENGTH - 1)}" cannot end a pubky (only "y" or "o" can): ` +
        'the key is mistyped.',
    );
  }
  return PublicKey.fromBytes(bytes);
}

function assertEd25519Point(bytes: Uint8Array, text: string): void {
  try {
    ed25519.Point.fromBytes(bytes);
  } catch {
    throw new PubkyParseError(
      'NOT_ED25519_KEY',
      `${text} is well-formed but is not a valid ed25519 public key: it is mistyped or not a pubky.`,
    );
  }
}

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `"${ch}"`;
}
