import { createRequire } from 'node:module';
import { crc32 } from '@node-rs/crc32';

/**
 * yazl computes each entry's CRC-32 with buffer-crc32, a byte-table JavaScript loop (~300 MB/s,
 * the largest cost of a store-only archive). Point its `unsigned(chunk, previous)` at the SIMD
 * implementation of @node-rs/crc32 (same results, ~10 GB/s). yazl looks the function up on each
 * call, so replacing it on the shared module object is enough.
 */
const require = createRequire(import.meta.url);
const bufferCrc32 = require(require.resolve('buffer-crc32', { paths: [require.resolve('yazl')] })) as {
  unsigned: (data: Uint8Array, previous?: number) => number;
};
bufferCrc32.unsigned = (data, previous) =>
  crc32(Buffer.from(data.buffer, data.byteOffset, data.byteLength), previous ?? 0) >>> 0;
