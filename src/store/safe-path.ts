/**
 * Turns paths from the homeserver's feeds into paths inside the backup, and back.
 *
 * Feed and listing lines carry the *decoded* homeserver path verbatim (protocol.md §5): it is never
 * percent-decoded again, so a literal `%2e%2e` segment is a name, not `..`. What a local file system
 * cannot store is escaped reversibly, one segment at a time, by `escapeSegment`. Two more mappings,
 * both using escapes that `escapeSegment` never produces (a literal `%2F` or `%2E` in a name is
 * itself escaped to `%252F`, `%252E`), keep every name the homeserver accepts:
 * - a name longer than `MAX_STORED_NAME_BYTES` once escaped is cut into parts, every part but the
 *   last ending in `%2F` ("the name goes on in the next folder"): `aaa…%2F/…aaa`;
 * - a file whose name is also a folder (homeserver paths are keys: `/pub/notes` and
 *   `/pub/notes/today` can both exist) is kept inside that folder as `%2E` ("this name itself"):
 *   `data/pub/notes/%2E` (`SELF_ENTRY`, placed by `BackupStore`).
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

/**
 * Longest stored name, in bytes: 255 (the file system's limit) less room for a version suffix
 * (`~YYYY-MM-DD_HH-MM-SS.mmm-NN`), so a version keeps the whole name.
 */
export const MAX_STORED_NAME_BYTES = 224;
/** Ends every part of a name that was cut (see the module comment). */
export const CONTINUED = '%2F';
/** The stored name of a file whose name is also a folder, inside that folder. */
export const SELF_ENTRY = '%2E';

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
  if (segments.some((segment) => utf8Length(segment) > MAX_SEGMENT_BYTES)) {
    return reject('too-long', `${quote(path)} has a name longer than ${MAX_SEGMENT_BYTES} bytes.`);
  }
  return { ok: true, path, storePath: storePathOf(segments) };
}

/** The store path of a homeserver path's segments (`['pub', 'a', 'b']` → `data/pub/a/b`). */
export function storePathOf(segments: readonly string[]): string {
  return `${DATA_PREFIX}/${segments.flatMap((segment) => cutLongName(escapeSegment(segment))).join('/')}`;
}

/** The homeserver path (`/pub/a/b`) of a store path (`data/pub/a/b`); the inverse of `backupPathOf`. */
export function homeserverPathOf(storePath: string): string {
  if (!storePath.startsWith(`${DATA_PREFIX}/`)) {
    throw new Error(`Not a path under ${DATA_PREFIX}/: ${quote(storePath)}.`);
  }
  const stored = storePath.slice(DATA_PREFIX.length + 1).split('/');
  if (stored.length > 1 && stored.at(-1) === SELF_ENTRY) stored.pop();
  const names: string[] = [];
  let name = '';
  for (const segment of stored) {
    if (segment.endsWith(CONTINUED)) {
      name += unescapeSegment(segment.slice(0, -CONTINUED.length));
      continue;
    }
    names.push(name + unescapeSegment(segment));
    name = '';
  }
  if (name !== '') names.push(name);
  return `/${names.join('/')}`;
}

/**
 * Cuts an escaped name longer than `MAX_STORED_NAME_BYTES` into parts that each fit, never inside
 * a character or a `%XX` escape; every part but the last ends in `CONTINUED`. Parts after the
 * first get the device-name escape too (`con.txt` may start a part).
 */
function cutLongName(escaped: string): string[] {
  if (utf8Length(escaped) <= MAX_STORED_NAME_BYTES) return [escaped];
  const room = MAX_STORED_NAME_BYTES - CONTINUED.length;
  const parts: string[] = [];
  const chars = Array.from(escaped);
  let part = '';
  let bytes = 0;
  for (let i = 0; i < chars.length; i++) {
    const unit = chars[i] === '%' ? chars.slice(i, i + 3).join('') : (chars[i] as string);
    const size = utf8Length(unit);
    if (bytes + size > room) {
      parts.push(part + CONTINUED);
      part = '';
      bytes = 0;
    }
    part += unit;
    bytes += size;
    i += unit.length > 1 && unit.startsWith('%') ? 2 : 0;
  }
  parts.push(part);
  return parts.map((p, i) => (i === 0 ? p : escapeDeviceName(p)));
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
  out = escapeDeviceName(out);
  const last = out.charAt(out.length - 1);
  if (last === '.' || last === ' ') out = out.slice(0, -1) + percent(last);
  return out;
}

/** `con.txt` → `%63on.txt`: Windows reserves device names, with any extension. */
function escapeDeviceName(name: string): string {
  const base = name.split('.', 1)[0] ?? '';
  return DEVICE_NAME.test(base) ? percent(name.charAt(0)) + name.slice(1) : name;
}

/** Decodes every `%XX` of an escaped segment; the inverse of `escapeSegment`. */
export function unescapeSegment(name: string): string {
  return name.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** C0 and C1 control characters (Rust `char::is_control`), NUL included. */
export function hasControlChar(text: string): boolean {
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
