import { close, fdatasync, fsync, open, read, write } from 'node:fs';
import { promisify } from 'node:util';

const openAsync = promisify(open);
const writeAsync = (fd: number, bytes: Uint8Array, offset: number, length: number, position: number) =>
  new Promise<number>((resolve, reject) =>
    write(fd, bytes, offset, length, position, (error, n) => (error ? reject(error) : resolve(n))),
  );
const readAsync = (fd: number, bytes: Buffer, offset: number, length: number, position: number) =>
  new Promise<number>((resolve, reject) =>
    read(fd, bytes, offset, length, position, (error, n) => (error ? reject(error) : resolve(n))),
  );
const closeAsync = promisify(close);
const fsyncAsync = promisify(fsync);
const fdatasyncAsync = promisify(fdatasync);

/** Bytes gathered before one write. */
const BUFFER_BYTES = 1024 * 1024;

/**
 * A new file written front to back through a 1 MiB buffer: many small appends cost one copy each
 * and one `write` per MiB, with one write in flight while the next buffer fills (appends wait only
 * when both are full). With `syncEveryBytes`, the written part is fdatasync'ed in the background
 * now and then, so the final fsync has little left to wait for.
 */
export class OutputFile {
  /** Bytes appended so far (the offset of the next append). */
  position = 0;
  private buffer: Buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private spare: Buffer | undefined = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  private writing: Promise<void> = Promise.resolve();
  private written = 0;
  private failure: unknown;
  private syncing: Promise<void> | undefined;
  private syncedAt = 0;

  private constructor(
    readonly fd: number,
    private readonly syncEveryBytes: number,
  ) {}

  /** Creates `path` (it must not exist). */
  static async create(path: string, options: { syncEveryBytes?: number } = {}): Promise<OutputFile> {
    return new OutputFile(await openAsync(path, 'wx+', 0o644), options.syncEveryBytes ?? 0);
  }

  /**
   * Appends a copy of `bytes`; a promise only when the caller must wait (both buffers full, or
   * `bytes` written straight through), else undefined.
   */
  append(bytes: Uint8Array): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    this.position += bytes.length;
    if (bytes.length >= BUFFER_BYTES) return this.appendLarge(bytes);
    const room = BUFFER_BYTES - this.used;
    if (bytes.length < room) {
      this.buffer.set(bytes, this.used);
      this.used += bytes.length;
      return undefined;
    }
    this.buffer.set(bytes.subarray(0, room), this.used);
    this.used = BUFFER_BYTES;
    const rest = bytes.subarray(room);
    const rotated = this.rotate();
    if (!rotated) {
      this.buffer.set(rest, 0);
      this.used = rest.length;
      return undefined;
    }
    return rotated.then(() => {
      this.buffer.set(rest, 0);
      this.used = rest.length;
    });
  }

  /** Waits until everything appended is written. */
  async flush(): Promise<void> {
    if (this.used > 0) {
      const full = this.buffer.subarray(0, this.used);
      this.used = 0;
      await this.writing;
      await this.writeOut(full);
    }
    await this.writing;
    if (this.failure) throw this.failure;
  }

  /** Writes everything, fsyncs and closes. */
  async finish(): Promise<void> {
    try {
      await this.flush();
      await this.syncing;
      await fsyncAsync(this.fd);
    } finally {
      await closeAsync(this.fd).catch(() => {});
    }
  }

  /** Closes without caring about what is not written (the file is removed next). */
  async abandon(): Promise<void> {
    await this.writing.catch(() => {});
    await this.syncing?.catch(() => {});
    await closeAsync(this.fd).catch(() => {});
  }

  /** Reads back `length` bytes written at `offset` (after `flush`), in chunks of at most 1 MiB. */
  async *readBack(offset: number, length: number): AsyncGenerator<Buffer> {
    for (let at = 0; at < length; ) {
      const chunk = Buffer.allocUnsafe(Math.min(BUFFER_BYTES, length - at));
      const n = await readAsync(this.fd, chunk, 0, chunk.length, offset + at);
      if (n === 0) throw new Error(`read back ${at} of ${length} bytes: the file is shorter`);
      at += n;
      yield chunk.subarray(0, n);
    }
  }

  /** Hands the full buffer to a write; a promise when the previous write is still running. */
  private rotate(): Promise<void> | undefined {
    const full = this.buffer;
    if (this.spare) {
      this.buffer = this.spare;
      this.spare = undefined;
      this.startWrite(full);
      return undefined;
    }
    return this.writing.then(() => {
      if (this.failure) throw this.failure;
      this.buffer = this.spare as Buffer;
      this.spare = undefined;
      this.startWrite(full);
    });
  }

  private startWrite(full: Buffer): void {
    this.writing = this.writing.then(async () => {
      await this.writeOut(full);
      this.spare = full;
    });
  }

  private async appendLarge(bytes: Uint8Array): Promise<void> {
    const pending = this.buffer.subarray(0, this.used);
    this.used = 0;
    await this.writing;
    if (pending.length > 0) await this.writeOut(pending);
    await this.writeOut(bytes);
  }

  private async writeOut(bytes: Uint8Array): Promise<void> {
    if (this.failure) return;
    try {
      for (let done = 0; done < bytes.length; ) {
        done += await writeAsync(this.fd, bytes, done, bytes.length - done, this.written + done);
      }
      this.written += bytes.length;
      if (this.syncEveryBytes > 0 && this.written - this.syncedAt >= this.syncEveryBytes && !this.syncing) {
        this.syncedAt = this.written;
        this.syncing = fdatasyncAsync(this.fd).finally(() => {
          this.syncing = undefined;
        });
        this.syncing.catch(() => {});
      }
    } catch (error) {
      this.failure = error;
    }
  }
}
