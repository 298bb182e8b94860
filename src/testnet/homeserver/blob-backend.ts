import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, openSync, readSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Where file bodies live: memory (default) or a folder (so a testnet survives restarts). */
export interface BlobBackend {
  /** Stores the body under (owner, path), replacing any previous one only once complete. */
  write(owner: string, path: string, body: AsyncIterable<Uint8Array>): Promise<void>;
  read(owner: string, path: string, range?: { start: number; end: number }): Readable;
  /**
   * A small body whole, without stream machinery (the cheap path for serving many small files);
   * undefined when it is not `size` bytes (then `read` streams it and the length check tells).
   */
  readWhole(owner: string, path: string, size: number): Buffer | undefined;
  remove(owner: string, path: string): Promise<void>;
}

export class MemoryBlobBackend implements BlobBackend {
  private readonly blobs = new Map<string, Buffer>();

  async write(owner: string, path: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk);
    this.blobs.set(`${owner}${path}`, Buffer.concat(chunks));
  }

  read(owner: string, path: string, range?: { start: number; end: number }): Readable {
    const blob = this.blobs.get(`${owner}${path}`) ?? Buffer.alloc(0);
    const slice = range ? blob.subarray(range.start, range.end + 1) : blob;
    // Chunked like a socket read, so truncation faults and streaming clients see several chunks.
    return Readable.from(chunked(slice, 64 * 1024));
  }

  readWhole(owner: string, path: string, size: number): Buffer | undefined {
    const blob = this.blobs.get(`${owner}${path}`);
    return blob?.length === size ? blob : undefined;
  }

  async remove(owner: string, path: string): Promise<void> {
    this.blobs.delete(`${owner}${path}`);
  }
}

function* chunked(buffer: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < buffer.length; at += size) yield buffer.subarray(at, at + size);
}

/** One file per stored path, named by a hash of the path (paths may hold any character). */
export class DirBlobBackend implements BlobBackend {
  constructor(private readonly dir: string) {}

  private fileOf(owner: string, path: string): string {
    return join(this.dir, owner, createHash('sha256').update(path).digest('hex'));
  }

  async write(owner: string, path: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    await mkdir(join(this.dir, owner), { recursive: true });
    const target = this.fileOf(owner, path);
    const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await pipeline(Readable.from(body), createWriteStream(temp));
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  read(owner: string, path: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.fileOf(owner, path), { ...range, highWaterMark: 256 * 1024 });
  }

  readWhole(owner: string, path: string, size: number): Buffer | undefined {
    // Synchronous on purpose: for a small file in the page cache, three syscalls on this thread
    // cost less than three trips through libuv's thread pool and a stream.
    let fd: number;
    try {
      fd = openSync(this.fileOf(owner, path), 'r');
    } catch {
      return undefined;
    }
    try {
      const body = Buffer.allocUnsafe(size + 1);
      let got = 0;
      for (let n = 1; n > 0 && got <= size; got += n) n = readSync(fd, body, got, size + 1 - got, got);
      return got === size ? body.subarray(0, size) : undefined;
    } finally {
      closeSync(fd);
    }
  }

  async remove(owner: string, path: string): Promise<void> {
    await rm(this.fileOf(owner, path), { force: true });
  }
}
