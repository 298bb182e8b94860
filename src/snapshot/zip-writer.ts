import { crc32 } from '@node-rs/crc32';
import type { OutputFile } from './output-file.js';

/**
 * A streaming ZIP writer for snapshots: stored entries (one deflated for the manifest), ZIP64 where
 * sizes, offsets or the entry count need it, written front to back into an `OutputFile`. The
 * central directory is not kept in memory: each record goes to a spool file as its entry is
 * written and is copied to the end of the archive by `finish`, so memory does not grow with the
 * number of entries. The layout is yazl's (which the project used before): UTF-8 names, Unix
 * mode 0664, DOS time plus Info-ZIP's UTC timestamp field in the central directory, a data
 * descriptor for streamed entries.
 */

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const DATA_DESCRIPTOR = 0x08074b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const VERSION_MADE_BY = (3 << 8) | 63; // Unix, spec 6.3
const VERSION_UTF8 = 20;
const VERSION_ZIP64 = 45;
const FLAG_UTF8 = 1 << 11;
const FLAG_DATA_DESCRIPTOR = 1 << 3;
const STORED = 0;
const DEFLATED = 8;
const FILE_MODE = 0o100664;
const MAX_32 = 0xfffffffe;

/** A streamed entry in progress: `write` its bytes, then `end`. */
export interface EntryStream {
  write(chunk: Uint8Array): Promise<void> | undefined;
  end(): Promise<void> | undefined;
}

export class ZipWriter {
  private entries = 0;
  private readonly dosTime: number;
  private readonly dosDate: number;
  private readonly unixTime: number;

  /**
   * @param out the archive
   * @param central a spool for central directory records (a temp file, removed by the caller)
   * @param mtime every entry's modification time
   */
  constructor(
    private readonly out: OutputFile,
    private readonly central: OutputFile,
    mtime: Date,
  ) {
    const dos = dosDateTime(mtime);
    this.dosTime = dos.time;
    this.dosDate = dos.date;
    this.unixTime = Math.max(-0x80000000, Math.min(0x7fffffff, Math.floor(mtime.getTime() / 1000)));
  }

  /** Bytes written to the archive so far. */
  get position(): number {
    return this.out.position;
  }

  /** A stored entry whose bytes are all at hand: sizes and CRC-32 go in the local header. */
  addWhole(name: Buffer, bytes: Uint8Array): Promise<void> | undefined {
    const crc = crc32(bytes) >>> 0;
    const offset = this.out.position;
    const header = this.localHeader(name, 0, STORED, crc, bytes.length, bytes.length);
    const written = then(this.out.append(header), () =>
      bytes.length > 0 ? this.out.append(bytes) : undefined,
    );
    return both(written, this.record(name, 0, STORED, crc, bytes.length, bytes.length, offset));
  }

  /**
   * A stored entry streamed in chunks: its sizes and CRC-32 follow the bytes in a data descriptor.
   * Await each `write` (when it returns a promise) before the next.
   */
  begin(name: Buffer): EntryStream {
    let crc = 0;
    const entry = this.beginEntry(name, STORED, (chunk) => {
      crc = crc32(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), crc) >>> 0;
    });
    return { write: entry.write, end: () => entry.end(crc, entry.size()) };
  }

  /** A deflated entry: the caller writes compressed bytes, then says the original's CRC-32 and size. */
  beginDeflated(name: Buffer): {
    write(chunk: Uint8Array): Promise<void> | undefined;
    end(crc: number, size: number): Promise<void> | undefined;
  } {
    const entry = this.beginEntry(name, DEFLATED);
    return { write: entry.write, end: (crc, size) => entry.end(crc >>> 0, size) };
  }

  private beginEntry(name: Buffer, method: number, onChunk?: (chunk: Uint8Array) => void) {
    const offset = this.out.position;
    let pending = this.out.append(this.localHeader(name, FLAG_DATA_DESCRIPTOR, method, 0, 0, 0));
    let written = 0;
    return {
      size: () => written,
      write: (chunk: Uint8Array) => {
        onChunk?.(chunk);
        written += chunk.length;
        const wait = then(pending, () => this.out.append(chunk));
        pending = undefined;
        return wait;
      },
      end: (crc: number, size: number) => {
        const zip64 = written > MAX_32 || size > MAX_32 || offset > MAX_32;
        const descriptor = Buffer.allocUnsafe(zip64 ? 24 : 16);
        descriptor.writeUInt32LE(DATA_DESCRIPTOR, 0);
        descriptor.writeUInt32LE(crc, 4);
        if (zip64) {
          writeUInt64LE(descriptor, written, 8);
          writeUInt64LE(descriptor, size, 16);
        } else {
          descriptor.writeUInt32LE(written, 8);
          descriptor.writeUInt32LE(size, 12);
        }
        const done = then(pending, () => this.out.append(descriptor));
        pending = undefined;
        return both(done, this.record(name, FLAG_DATA_DESCRIPTOR, method, crc, written, size, offset));
      },
    };
  }

  /** Appends the central directory and the end records; the archive is complete after `out.finish()`. */
  async finish(): Promise<void> {
    await this.central.flush();
    const start = this.out.position;
    const length = this.central.position;
    for await (const chunk of this.central.readBack(0, length)) {
      const wait = this.out.append(chunk);
      if (wait) await wait;
    }
    const zip64 = this.entries >= 0xffff || length >= 0xffffffff || start >= 0xffffffff;
    const parts: Buffer[] = [];
    if (zip64) {
      const record = Buffer.alloc(56);
      record.writeUInt32LE(ZIP64_END_OF_CENTRAL_DIRECTORY, 0);
      writeUInt64LE(record, 56 - 12, 4);
      record.writeUInt16LE(VERSION_MADE_BY, 12);
      record.writeUInt16LE(VERSION_ZIP64, 14);
      writeUInt64LE(record, this.entries, 24);
      writeUInt64LE(record, this.entries, 32);
      writeUInt64LE(record, length, 40);
      writeUInt64LE(record, start, 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(ZIP64_LOCATOR, 0);
      writeUInt64LE(locator, start + length, 8);
      locator.writeUInt32LE(1, 16);
      parts.push(record, locator);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
    end.writeUInt16LE(zip64 ? 0xffff : this.entries, 8);
    end.writeUInt16LE(zip64 ? 0xffff : this.entries, 10);
    end.writeUInt32LE(zip64 ? 0xffffffff : length, 12);
    end.writeUInt32LE(zip64 ? 0xffffffff : start, 16);
    parts.push(end);
    const wait = this.out.append(Buffer.concat(parts));
    if (wait) await wait;
  }

  private localHeader(name: Buffer, flags: number, method: number, crc: number, csize: number, size: number) {
    const header = Buffer.allocUnsafe(30 + name.length);
    header.writeUInt32LE(LOCAL_HEADER, 0);
    header.writeUInt16LE(VERSION_UTF8, 4);
    header.writeUInt16LE(FLAG_UTF8 | flags, 6);
    header.writeUInt16LE(method, 8);
    header.writeUInt16LE(this.dosTime, 10);
    header.writeUInt16LE(this.dosDate, 12);
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(csize, 18);
    header.writeUInt32LE(size, 22);
    header.writeUInt16LE(name.length, 26);
    header.writeUInt16LE(0, 28);
    name.copy(header, 30);
    return header;
  }

  /** Spools the central directory record of an entry just written. */
  private record(
    name: Buffer,
    flags: number,
    method: number,
    crc: number,
    csize: number,
    size: number,
    offset: number,
  ): Promise<void> | undefined {
    const zip64 = csize > MAX_32 || size > MAX_32 || offset > MAX_32;
    const extra = 9 + (zip64 ? 28 : 0);
    const record = Buffer.allocUnsafe(46 + name.length + extra);
    record.writeUInt32LE(CENTRAL_HEADER, 0);
    record.writeUInt16LE(VERSION_MADE_BY, 4);
    record.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_UTF8, 6);
    record.writeUInt16LE(FLAG_UTF8 | flags, 8);
    record.writeUInt16LE(method, 10);
    record.writeUInt16LE(this.dosTime, 12);
    record.writeUInt16LE(this.dosDate, 14);
    record.writeUInt32LE(crc, 16);
    record.writeUInt32LE(zip64 ? 0xffffffff : csize, 20);
    record.writeUInt32LE(zip64 ? 0xffffffff : size, 24);
    record.writeUInt16LE(name.length, 28);
    record.writeUInt16LE(extra, 30);
    record.writeUInt16LE(0, 32); // comment
    record.writeUInt16LE(0, 34); // disk
    record.writeUInt16LE(0, 36); // internal attributes
    record.writeUInt32LE((FILE_MODE << 16) >>> 0, 38);
    record.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    name.copy(record, 46);
    let at = 46 + name.length;
    // Info-ZIP universal timestamp: mtime (atime flagged, never present in the central directory).
    record.writeUInt16LE(0x5455, at);
    record.writeUInt16LE(5, at + 2);
    record.writeUInt8(3, at + 4);
    record.writeInt32LE(this.unixTime, at + 5);
    at += 9;
    if (zip64) {
      record.writeUInt16LE(0x0001, at);
      record.writeUInt16LE(24, at + 2);
      writeUInt64LE(record, size, at + 4);
      writeUInt64LE(record, csize, at + 12);
      writeUInt64LE(record, offset, at + 20);
    }
    this.entries++;
    return this.central.append(record);
  }
}

/** Runs `next` after `first` (at once when there is nothing to wait for). */
function then(
  first: Promise<void> | undefined,
  next: () => Promise<void> | undefined,
): Promise<void> | undefined {
  return first ? first.then(next) : next();
}

/** Waits for both, or returns undefined when neither is a promise. */
function both(a: Promise<void> | undefined, b: Promise<void> | undefined): Promise<void> | undefined {
  if (!a) return b;
  if (!b) return a;
  return Promise.all([a, b]).then(() => {});
}

function writeUInt64LE(buffer: Buffer, n: number, offset: number): void {
  buffer.writeUInt32LE(n % 0x100000000, offset);
  buffer.writeUInt32LE(Math.floor(n / 0x100000000), offset + 4);
}

/** DOS date and time in the local time zone, clamped to 1980–2107 (as yazl does). */
function dosDateTime(date: Date): { date: number; time: number } {
  const min = new Date(1980, 0, 1);
  const max = new Date(2107, 11, 31, 23, 59, 58);
  const d = date < min ? min : date > max ? max : date;
  return {
    date: (d.getDate() & 0x1f) | (((d.getMonth() + 1) & 0xf) << 5) | (((d.getFullYear() - 1980) & 0x7f) << 9),
    time: Math.floor(d.getSeconds() / 2) | ((d.getMinutes() & 0x3f) << 5) | ((d.getHours() & 0x1f) << 11),
  };
}
