import { close, fstat, fsync, open, writev } from 'node:fs';

/** Writes gathered into one `writev` once this many bytes wait (and at close). */
const GATHER_BYTES = 1024 * 1024;

/** A new file written through a plain descriptor: see `openFdWriter`. */
export interface FdWriter {
  /** Queues `chunk` (kept by reference, not copied) and writes when enough has gathered. */
  write(chunk: Buffer): Promise<void>;
  /** Writes what is left, fsyncs, and closes; the file's mtime for the index. */
  close(): Promise<{ mtimeMs: number }>;
  /** Closes without writing what is left or fsyncing (the file is about to be deleted). */
  cancel(): Promise<void>;
}

/**
 * Creates `file` (failing if it exists) and returns a writer that gathers chunks into few
 * `writev` calls: a download of a small file costs one open, one writev, one fsync, one fstat and
 * one close. Plain callbacks on a descriptor number: no `FileHandle` objects for the GC, and one
 * promise per system call.
 */
export async function openFdWriter(file: string, mode = 0o644): Promise<FdWriter> {
  const fd = await new Promise<number>((resolve, reject) =>
    open(file, 'wx', mode, (error, fd) => (error ? reject(error) : resolve(fd))),
  );
  let gathered: Buffer[] = [];
  let gatheredBytes = 0;
  let position = 0;
  let closed = false;
  const flush = async () => {
    const buffers = gathered;
    const bytes = gatheredBytes;
    gathered = [];
    gatheredBytes = 0;
    await writeAll(fd, buffers, bytes, position);
    position += bytes;
  };
  const closeFd = () =>
    new Promise<void>((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
  return {
    async write(chunk) {
      if (chunk.byteLength === 0) return;
      gathered.push(chunk);
      gatheredBytes += chunk.byteLength;
      if (gatheredBytes >= GATHER_BYTES) await flush();
    },
    async close() {
      closed = true;
      try {
        if (gatheredBytes > 0) await flush();
        await new Promise<void>((resolve, reject) =>
          fsync(fd, (error) => (error ? reject(error) : resolve())),
        );
        // Recorded in the index: a later size or mtime change means the file was touched.
        const stats = await new Promise<{ mtimeMs: number }>((resolve, reject) =>
          fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats))),
        );
        return { mtimeMs: stats.mtimeMs };
      } finally {
        await closeFd();
      }
    },
    async cancel() {
      if (closed) return;
      closed = true;
      gathered = [];
      await closeFd();
    },
  };
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
