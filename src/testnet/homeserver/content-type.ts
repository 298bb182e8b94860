import { fileTypeFromBuffer } from 'file-type';
import mime from 'mime-types';

/** How many leading bytes the magic-byte sniffer looks at (what `file-type` needs at most). */
export const SNIFF_BYTES = 4100;
const FALLBACK = 'application/octet-stream';

/**
 * The Content-Type a homeserver stores for a written file (pubky-homeserver v0.6.0
 * `persistence/files/file/file_metadata.rs`): the type its leading bytes reveal (upstream: the
 * `infer` crate; here: `file-type`), else the type of the path's extension (upstream:
 * `mime_guess`; here: `mime-types`), else `application/octet-stream`. The request's own
 * Content-Type header plays no part.
 *
 * @param head the first bytes of the body (up to `SNIFF_BYTES`)
 * @param path the stored path, e.g. `/pub/app/photo.jpg`
 */
export async function detectContentType(head: Uint8Array, path: string): Promise<string> {
  const sniffed = head.length > 0 ? await fileTypeFromBuffer(head) : undefined;
  if (sniffed) return sniffed.mime;
  const name = path.slice(path.lastIndexOf('/') + 1);
  return (name.includes('.') && mime.lookup(name)) || FALLBACK;
}
