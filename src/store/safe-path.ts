/**
 * Turns paths from the homeserver's feeds into paths inside the backup, and back.
 *
 * Feed and listing lines carry the *decoded* homeserver path verbatim (protocol.md §5): it is never
 * percent-decoded again, so a literal `%2e%2e` segment is a name, not `..`. What a local file system
 * cannot store is escaped reversibly, one segment at a time, by `escapeSegment`.
 */

/** Why a feed path is not backed up. Stable codes for logs, `--json` and tests. */
export type PathRejection =
  | 'not-pubky-uri'
  | 'foreign-owner'
  | 'outside-pub'
  | 'dot-segment'
  | 'empty-segment'
  | 'nul'
  | 'backslash'
  | 'control-char'
  | 'too-long';

export type BackupPath =
  | { ok: true; path: string; storePath: string }
  | { ok: false; reason: PathRejection; message: string };

/** Limits of the homeserver's `WebDavPath` (bytes of UTF-8). */
export const MAX_SEGMENT_BYTES = 255;
export const MAX_PATH_BYTES = 4096;

/** The folder of the key folder that mirrors the homeserver's tree. */
export const DATA_PREFIX = 'data';

const SCHEME = 'pubky://';
const Z32_KEY = /^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}$/;
const PUB_PREFIX = '/pub/';

/**
 * Where the file named by feed URI `uri` (`pubky://<owner>/pub/…`) is kept: `path` is the homeserver
 * path (`/pub/a/b`), `storePath` the escaped path relative to the key folder (`data/pub/a/b`).
 */
export function backupPathOf(uri: string, owner: string): BackupPath {
  if (!uri.startsWith(SCHEME)) return reject('not-pubky-uri', `Not a pubky:// address: ${quote(uri)}.`);
  const slash = uri.indexOf('/', SCHEME.length);
  const host = slash === -1 ? uri.slice(SCHEME.length) : uri.slice(SCHEME.length, slash);
  if (!Z32_KEY.test(host)) {
    return reject('not-pubky-uri', `${quote(uri)} does not start with pubky://<52-character pubky>/.`);
  }
  if (host !== owner) {
    return reject('foreign-owner', `${quote(uri)} belongs to ${host}, not to the backed-up key ${owner}.`);
  }
  const path = slash === -1 ? '' : uri.slice(slash);
  if (path.includes('\0')) return reject('nul', `${quote(path)} contains a NUL character.`);
  if (path.includes('\\')) return reject('backslash', `${quote(path)} contains a backslash.`);
  if (hasControlChar(path)) return reject('control-char', `${quote(path)} contains a control character.`);
  if (!path.startsWith(PUB_PREFIX) || path.length === PUB_PREFIX.length) {
    return reject('outside-pub', `${quote(path)} is not a file under /pub/.`);
  }
  const segments = path.slice(1).split('/');
  if (segments.some((segment) => segment === '')) {
    return reject('empty-segment', `${quote(path)} has an empty segment (// or a trailing /).`);
  }
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    return reject('dot-segment', `${quote(path)} has a . or .. segment.`);
  }
  if (utf8Length(path) > MAX_PATH_BYTES) {
    return reject('too-long', `The path is longer than ${MAX_PATH_BYTES} bytes.`);
  }
  const escaped = segments.map(escapeSegment);
  if (escaped.some((segment) => utf8Length(segment) > MAX_SEGMENT_BYTES)) {
    return reject('too-long', `${quote(path)} has a name longer than ${MAX_SEGMENT_BYTES} bytes.`);
  }
  return { ok: true, path, storePath: `${DATA_PREFIX}/${escaped.join('/')}` };
}

/** The homeserver path (`/pub/a/b`) of a store path (`data/pub/a/b`); the inverse of `backupPathOf`. */
export function homeserverPathOf(storePath: string): string {
  if (!storePath.startsWith(`${DATA_PREFIX}/`)) {
    throw new Error(`Not a path under ${DATA_PREFIX}/: ${quote(storePath)}.`);
  }
  const segments = storePath.slice(DATA_PREFIX.length + 1).split('/');
  return `/${segments.map(unescapeSegment).join('/')}`;
}

// Characters Windows cannot store in a name, besides controls (plus backslash, which feeds never carry).
const FORBIDDEN_PRINTABLE = '<>:"|?*\\';
const HEX2 = /^[0-9A-Fa-f]{2}$/;
// Device names, also with an extension (`con.txt`) or trailing spaces before it; COM0/LPT0 and the
// superscript digits are reserved too on current Windows.
const DEVICE_NAME = /^(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]) *$/i;

/**
 * Escapes what Windows cannot store in one path segment, reversibly: forbidden characters and control
 * characters as `%XX`, a trailing `.` or space, the first letter of a device name (`con.txt`), and `%`
 * itself only where it is followed by two hex digits. Every other name, including one with a lone `%`,
 * is unchanged — the original app stores names verbatim.
 */
export function escapeSegment(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const ch = name.charAt(i);
    if (isForbidden(ch) || (ch === '%' && HEX2.test(name.slice(i + 1, i + 3)))) {
      out += percent(ch);
    } else {
      out += ch;
    }
  }
  const base = out.split('.', 1)[0] ?? '';
  if (DEVICE_NAME.test(base)) out = percent(out.charAt(0)) + out.slice(1);
  const last = out.charAt(out.length - 1);
  if (last === '.' || last === ' ') out = out.slice(0, -1) + percent(last);
  return out;
}

/** Decodes every `%XX` of an escaped segment; the inverse of `escapeSegment`. */
export function unescapeSegment(name: string): string {
  return name.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** C0 and C1 control characters (Rust `char::is_control`); NUL is checked before. */
function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** Control characters 0x00–0x1f (NUL included) and `<>:"|?*\`. */
function isForbidden(ch: string): boolean {
  return ch.charCodeAt(0) < 0x20 || FORBIDDEN_PRINTABLE.includes(ch);
}

function percent(ch: string): string {
  return `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}

function reject(reason: PathRejection, message: string): BackupPath {
  return { ok: false, reason, message };
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** JSON quoting shows control characters and stays on one line in logs. */
function quote(text: string): string {
  return JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text);
}
