import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { SnapshotError } from './errors.js';

/** A snapshot opened for reading: entries in central-directory order, each readable on demand. */
export interface ZipArchive {
  entries(): AsyncGenerator<yauzl.Entry>;
  read(entry: yauzl.Entry): Promise<Readable>;
  close(): void;
}

export function openZip(file: string): Promise<ZipArchive> {
  return new Promise((resolve, reject) => {
    // decodeStrings off: names are checked by us, raw, so zip-slip names are seen as they are.
    yauzl.open(
      file,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false },
      (error, zip) => {
        if (error || !zip) {
          const reason = error?.message ?? 'unknown error';
          return reject(
            new SnapshotError('NOT_A_SNAPSHOT', `${file} is not a readable ZIP archive (${reason}).`),
          );
        }
        resolve({
          async *entries() {
            const queue: Array<yauzl.Entry | null | Error> = [];
            let wake: (() => void) | undefined;
            const push = (item: yauzl.Entry | null | Error) => {
              queue.push(item);
              wake?.();
            };
            zip.on('entry', (entry: yauzl.Entry) => push(entry));
            zip.on('end', () => push(null));
            zip.on('error', (err: Error) => push(err));
            zip.readEntry();
            for (;;) {
              if (queue.length === 0) await new Promise<void>((r) => (wake = r));
              wake = undefined;
              const item = queue.shift();
              if (item === null || item === undefined) return;
              if (item instanceof Error) throw item;
              yield item;
              zip.readEntry();
            }
          },
          read(entry) {
            return new Promise((res, rej) => {
              zip.openReadStream(entry, (err, stream) => (err || !stream ? rej(err) : res(stream)));
            });
          },
          close() {
            zip.close();
          },
        });
      },
    );
  });
}

/** True for a file that begins with a ZIP local header (`PK\x03\x04`): a ZIP, perhaps damaged. */
export async function startsLikeZip(file: string): Promise<boolean> {
  try {
    const handle = await open(file, 'r');
    try {
      const head = Buffer.alloc(4);
      await handle.read(head, 0, 4, 0);
      return head.equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}
