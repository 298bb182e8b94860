/**
 * Path rules of the homeserver (`shared/webdav/webdav_path.rs`): stored paths are decoded and
 * normalised, segments ≤ 255 bytes, total ≤ 4096 bytes, no control characters, `.`/`..` resolved.
 */
export class PathError extends Error {
  override readonly name = 'PathError';
}

const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_BYTES = 4096;

/** Normalises a raw (percent-encoded) request path; keeps a trailing `/` (a directory). */
export function normalizeRequestPath(rawPath: string): string {
  if (!rawPath.startsWith('/')) throw new PathError('Path must start with /');
  const isDir = rawPath.endsWith('/');
  const out: string[] = [];
  for (const encoded of rawPath.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      throw new PathError('Invalid percent-encoding in path');
    }
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      out.pop();
      continue;
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    if (/[\u0000-\u001f\u007f]/.test(segment)) throw new PathError('Path contains control characters');
    if (segment.includes('/')) throw new PathError('Path segment contains an encoded "/"');
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) throw new PathError('Path segment too long');
    out.push(segment);
  }
  const path = `/${out.join('/')}${isDir && out.length > 0 ? '/' : ''}`;
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw new PathError('Path too long');
  return path;
}

/** Orders paths by UTF-8 bytes (as the homeserver's key-value store does), not UTF-16 units. */
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
