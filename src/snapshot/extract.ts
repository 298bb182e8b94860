import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newBlake3 } from '../util/blake3.js';
import { readManifest } from './check.js';
import { SnapshotError } from './errors.js';
import { entryNameOf, MANIFEST_NAME } from './manifest.js';
import { openZip } from './zip-reader.js';

export interface ExtractResult {
  dir: string;
  files: number;
  bytes: number;
}

/**
 * Extracts a snapshot into `dir` (`dir/pub/…`). Every entry name is checked before anything is
 * written: absolute names, `..`, backslashes, drive letters and NUL are refused (zip-slip), and the
 * whole extraction is refused with them. Each file is verified against the manifest's BLAKE3 while
 * it is written, and lands under its final name only when it matches.
 */
export async function extractSnapshot(file: string, dir: string): Promise<ExtractResult> {
  const root = resolve(dir);
  const scan = await openZip(file);
  const unsafe: string[] = [];
  try {
    for await (const entry of scan.entries()) {
      if (!safeTarget(root, entry.fileName)) unsafe.push(entry.fileName);
    }
  } catch (error) {
    // yauzl itself refuses absolute and `..` names while reading the directory.
    if (!/invalid relative path|absolute path|invalid characters/i.test((error as Error).message))
      throw error;
    unsafe.push((error as Error).message.replace(/^.*?: /, ''));
  } finally {
    scan.close();
  }
  if (unsafe.length > 0) {
    throw new SnapshotError(
      'UNSAFE_ENTRY',
      `${file} has entries that would be written outside ${root}: ${unsafe
        .slice(0, 5)
        .map((n) => JSON.stringify(n))
        .join(', ')}. ` + 'Nothing was extracted.',
    );
  }
  const manifestZip = await openZip(file);
  const manifest = await readManifest(manifestZip, file).finally(() => manifestZip.close());
  const hashes = new Map(manifest.files.map((f) => [entryNameOf(f.path), f.blake3]));

  const zip = await openZip(file);
  let files = 0;
  let bytes = 0;
  try {
    for await (const entry of zip.entries()) {
      if (entry.fileName === MANIFEST_NAME || entry.fileName.endsWith('/')) continue;
      const target = safeTarget(root, entry.fileName) as string;
      await mkdir(dirname(target), { recursive: true });
      const temp = `${target}.${randomBytes(4).toString('hex')}.part`;
      const hasher = await newBlake3();
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, next) {
          hasher.update(chunk);
          bytes += chunk.length;
          next(null, chunk);
        },
      });
      try {
        await pipeline(await zip.read(entry), hashing, createWriteStream(temp));
        const blake3 = hasher.digest();
        const expected = hashes.get(entry.fileName);
        if (expected !== undefined && expected !== blake3) {
          throw new SnapshotError(
            'DAMAGED',
            `${entry.fileName} in ${file} does not match its manifest hash: the archive is damaged`,
          );
        }
        await rename(temp, target);
      } finally {
        await rm(temp, { force: true });
      }
      files++;
    }
  } finally {
    zip.close();
  }
  return { dir: root, files, bytes };
}

/** The absolute path an entry would be written to, or undefined when the name is unsafe. */
function safeTarget(root: string, name: string): string | undefined {
  if (
    name === '' ||
    name.includes('\0') ||
    name.includes('\\') ||
    isAbsolute(name) ||
    /^[a-zA-Z]:/.test(name)
  ) {
    return undefined;
  }
  if (name.split('/').some((segment) => segment === '..')) return undefined;
  const target = resolve(root, name);
  const rel = relative(root, target);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return undefined;
  return join(root, rel);
}
