/**
 * BLAKE3 hashes as homeservers write them. v0.6+ sends base64 (standard, padded) in `content_hash`
 * and in the `ETag`; older generations sent 64 hex characters (pubky-common's `Hash` Display).
 * Both decode to the same 32 bytes, so everything inside this project compares one canonical text:
 * base64 standard with padding (what `store/` keeps in the index).
 */

const HEX_64 = /^[0-9a-fA-F]{64}$/;
const BASE64_32 = /^[A-Za-z0-9+/_-]{43}=?$/;

/**
 * The canonical base64 text of a 32-byte BLAKE3 hash given as hex (64 characters, any case) or
 * base64 (standard or URL-safe, padded or not). Undefined for anything else (an opaque ETag from a
 * proxy, say): the caller then has no hash to verify against. Never throws.
 */
export function canonicalBlake3(text: string): string | undefined {
  const value = text.trim();
  if (HEX_64.test(value)) return Buffer.from(value, 'hex').toString('base64');
  if (BASE64_32.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length !== 32) return undefined;
    const canonical = bytes.toString('base64');
    // Reject texts with stray low bits in the last character: they are not a hash's encoding.
    return canonical.slice(0, 43) === value.slice(0, 43).replace(/-/g, '+').replace(/_/g, '/')
      ? canonical
      : undefined;
  }
  return undefined;
}
