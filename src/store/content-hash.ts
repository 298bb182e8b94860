import { newBlake3 } from '../util/blake3.js';

/** BLAKE3 of a stream, as the homeserver writes it in `content_hash` and the ETag: base64 (standard, padded). */
export interface ContentHash {
  blake3: string;
  size: number;
}

/** Hashes a stream chunk by chunk; memory stays constant whatever its length. */
export async function hashStream(chunks: AsyncIterable<Uint8Array>): Promise<ContentHash> {
  const hasher = await newBlake3();
  let size = 0;
  for await (const chunk of chunks) {
    hasher.update(chunk);
    size += chunk.byteLength;
  }
  return { blake3: hasher.digest(), size };
}
