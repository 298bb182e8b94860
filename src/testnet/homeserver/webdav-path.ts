/**
 * Path rules of the homeserver (pubky-homeserver v0.6.0 `shared/webdav/webdav_path.rs`): a path
 * is percent-decoded as a whole (so `%2F` becomes a separator, as axum's path extractor does),
 * then normalised: empty and `.` segments dropped, `..` removes the previous segment (and is an
 * error at the root), segments ≤ 255 bytes without control characters, total ≤ 4096 bytes. A
 * path ending with `/` or `..` is a directory and keeps a trailing `/`.
 */
export class PathError extends Error {
  override readonly name = 'PathError';
}

const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_BYTES = 4096;
/** Rust's `char::is_control`: the Unicode Cc category (C0, DEL, C1). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Decodes and normalises a raw request path (`/pub/a%20b/../c`) into the stored form
 * (`/pub/c`). Throws `PathError` for invalid percent-encoding or UTF-8 and for paths the
 * homeserver refuses.
 */
export function normalizeRequestPath(rawPath: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    throw new PathError('Invalid URL: the path is not valid percent-encoded UTF-8');
  }
  return normalizeWebDavPath(decoded);
}

/** `WebDavPath::new`: normalises an already decoded path; throws `PathError` when invalid. */
export function normalizeWebDavPath(path: string): string {
  if (!path.startsWith('/')) throw new PathError("Path must start with '/'");
  const isDir = path.endsWith('/') || path.endsWith('..');
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '') continue;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
      throw new PathError(
        `Invalid path: Segment exceeds maximum length of ${MAX_SEGMENT_BYTES} characters. Segment: '${segment}'`,
      );
    }
    if (CONTROL.test(segment)) {
      throw new PathError('Invalid path: ASCII control characters are not allowed in segments');
    }
    if (segment === '.') continue;
    if (segment === '..') {
      if (out.length < 1) throw new PathError("Failed to normalize path: '..'.");
      out.pop();
      continue;
    }
    out.push(segment);
  }
  const joined = out.map((segment) => `/${segment}`).join('');
  const normalized = isDir ? `${joined}/` : joined;
  if (Buffer.byteLength(normalized) > MAX_PATH_BYTES) {
    throw new PathError(
      `Invalid path: Total path length exceeds maximum of ${MAX_PATH_BYTES} characters. Length: ${Buffer.byteLength(normalized)}`,
    );
  }
  return normalized;
}

/** Orders paths by UTF-8 bytes (as the homeserver's `COLLATE "C"` does), not UTF-16 units. */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after every BMP character in UTF-8.
    const xs = x >= 0xd800 && x <= 0xdfff ? x + 0x10000 : x;
    const ys = y >= 0xd800 && y <= 0xdfff ? y + 0x10000 : y;
    return xs - ys;
  }
  return a.length - b.length;
}
