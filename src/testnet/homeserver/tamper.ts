import { Readable } from 'node:stream';
import { createBLAKE3 } from 'hash-wasm';
import { detectContentType, SNIFF_BYTES } from './content-type.js';
import type { HomeserverContext } from './context.js';
import type { FileMeta } from './state.js';

/** How a stored file changes behind the feed's back. */
export type FileTamper =
  /** New bytes with matching metadata (size, ETag, type, time): a silent overwrite, or a new file. */
  | { mode: 'replace'; body: Uint8Array }
  /** The first byte flipped, metadata kept: served bytes no longer match the ETag (bit rot). */
  | { mode: 'corrupt' }
  /** The file is gone from storage and listings, with no DEL event. */
  | { mode: 'remove' };

/** Applies a `FileTamper` to `user`'s `path`; see `Homeserver.tamperFile`. */
export async function tamperFile(
  ctx: HomeserverContext,
  user: string,
  path: string,
  change: FileTamper,
): Promise<FileMeta | undefined> {
  const meta = ctx.state.filesOf(user).get(path);
  if (change.mode === 'replace') {
    const replaced: FileMeta = {
      size: change.body.length,
      hash: await blake3Base64(change.body),
      contentType: await detectContentType(change.body.subarray(0, SNIFF_BYTES), path),
      lastModifiedMs: Date.now(),
    };
    await ctx.blobs.write(user, path, Readable.from([change.body]));
    ctx.state.setFileSilently(user, path, replaced);
    return replaced;
  }
  if (!meta) throw new Error(`no file ${path} of ${user} to ${change.mode}`);
  if (change.mode === 'remove') {
    await ctx.blobs.remove(user, path);
    ctx.state.setFileSilently(user, path, null);
    return undefined;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.blobs.read(user, path)) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  if (bytes.length === 0) throw new Error(`${path} of ${user} is empty: nothing to corrupt`);
  bytes[0] = (bytes[0] as number) ^ 0xff;
  await ctx.blobs.write(user, path, Readable.from([bytes]));
  return meta;
}

async function blake3Base64(bytes: Uint8Array): Promise<string> {
  const hasher = await createBLAKE3();
  hasher.init();
  hasher.update(bytes);
  return Buffer.from(hasher.digest('binary')).toString('base64');
}
