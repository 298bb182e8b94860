import { closeSync, fstatSync, fsync, openSync, writev, writevSync } from 'node:fs';

/** Writes gathered into one `writev` once this many bytes wait (and at close). */
const GATHER_BYTES = 1024 * 1024;

/** A new file written through a plain descriptor: see `openFdWriter`. */
export interface FdWriter {
  /** Queues `chunk` (kept by reference, not copied) and writes when enough has gathered. */
  write(chunk: Buffer): Promise<void>;
  /**
   * Writes every gathered chunk now (no fsync), so nothing is held by reference any more: a file
   * waiting for its commit then costs a descriptor, not its bytes.
   */
  drain(): Promise<void>;
  /** Writes what is left, fsyncs, and closes; the file's mtime for the index. */
  close(): Promise<{ mtimeMs: number }>;
  /** Closes without writing what is left or fsyncing (the file is about to be deleted). */
  cancel(): Promise<void>;
}

/** A file this small is written with one `writev` on the calling thread at close. */
const SMALL_BYTES = 64 * 1024;

/**
 * Creates `file` (failing if it exists) and returns a writer that gathers chunks into few
 * `writev` calls: a download of a small file costs one open, one writev, one fsync, one fstat and
 * one close. Only the fsync and large writes go through libuv's thread pool; open, a small file's
 * single write, fstat and close take microseconds and run on the calling thread.
 */
export async function openFdWriter(file: string, mode = 0o644): Promise<FdWriter> {
  const fd = openSync(file, 'wx', mode);
  let gathered: Buffer[] = [];
  let gatheredBytes = 0;
  let position = 0;
  let closed = false;
  const flush = async () => {
    const buffers = gathered;
    const bytes = gatheredBytes;
    gathered = [];
    gatheredBytes = 0;
    if (position === 0 && bytes <= SMALL_BYTES) writeAllSync(fd, buffers, bytes);
    else await writeAll(fd, buffers, bytes, position);
    position += bytes;
  };
  return {
    async write(chunk) {
      if (chunk.byteLength === 0) return;
      gathered.push(chunk);
      gatheredBytes += chunk.byteLength;
      if (gatheredBytes >= GATHER_BYTES) await flush();
    },
    async drain() {
      if (gatheredBytes > 0) await flush();
    },
    async close() {
      closed = true;
      try {
        if (gatheredBytes > 0) await flush();
        await new Promise<void>((resolve, reject) =>
          fsync(fd, (error) => (error ? reject(error) : resolve())),
        );
        // Recorded in the index: a later size or mtime change means the file was touched.
        return { mtimeMs: fstatSync(fd).mtimeMs };
      } finally {
        closeSync(fd);
      }
    },
    async cancel() {
      if (closed) return;
      closed = true;
      gathered = [];
      closeSync(fd);
    },
  };
}

function writeAllSync(fd: number, buffers: Buffer[], bytes: number): void {
  let list = buffers;
  for (let done = 0; done < bytes; ) {
    const written = writevSync(fd, list, done);
    done += written;
    if (done < bytes) list = rest(list, written);
  }
}

/** `writev` until every byte is written (a short write continues where it stopped). */
async function writeAll(fd: number, buffers: Buffer[], bytes: number, position: number): Promise<void> {
  let list = buffers;
  let done = 0;
  while (done < bytes) {
    const written = await new Promise<number>((resolve, reject) =>
      writev(fd, list, position + done, (error, n) => (error ? reject(error) : resolve(n))),
    );
    done += written;
    if (done < bytes) list = rest(list, written);
  }
}

/** The buffers after the first `skip` bytes. */
function rest(buffers: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  let left = skip;
  for (const buffer of buffers) {
    if (left >= buffer.length) {
      left -= buffer.length;
      continue;
    }
    out.push(left > 0 ? buffer.subarray(left) : buffer);
    left = 0;
  }
  return out;
}
