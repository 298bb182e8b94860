import { newBlake3 } from '../util/blake3.js';
import { SnapshotError } from './errors.js';
import { entryNameOf, MANIFEST_NAME, type Manifest, ManifestSchema } from './manifest.js';
import { openZip, startsLikeZip, type ZipArchive } from './zip-reader.js';

export interface CheckProblem {
  entry: string;
  /**
   * `damaged-when-archived`: the manifest itself records that these bytes were not what the backup
   * had backed up (see `Manifest.damaged`); `archive-damaged`: the archive cannot be read as a whole
   * (cut short, its entry list gone).
   */
  problem:
    | 'hash-mismatch'
    | 'size-mismatch'
    | 'missing'
    | 'not-in-manifest'
    | 'unreadable'
    | 'damaged-when-archived'
    | 'archive-damaged';
  detail?: string;
}

export interface CheckReport {
  file: string;
  manifest?: Omit<Manifest, 'files'>;
  entries: number;
  bytes: number;
  problems: CheckProblem[];
}

/** Reads `manifest.json` from an open archive (it is the last entry, but any position works). */
export async function readManifest(zip: ZipArchive, file: string): Promise<Manifest> {
  for await (const entry of zip.entries()) {
    if (entry.fileName !== MANIFEST_NAME) continue;
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.read(entry)) chunks.push(chunk as Buffer);
    const parsed = ManifestSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    if (!parsed.success)
      throw new SnapshotError('NOT_A_SNAPSHOT', `${file}: manifest.json is not a valid snapshot manifest`);
    return parsed.data;
  }
  throw new SnapshotError(
    'NOT_A_SNAPSHOT',
    `${file} has no manifest.json: it is not a Pubky Backup snapshot`,
  );
}

/**
 * Verifies every entry's BLAKE3 and size against the manifest, and that nothing is missing or
 * extra; entries the manifest records as damaged when archived are problems too. An archive that is
 * a ZIP but cannot be opened (cut short) is reported as damaged; only a file that is no ZIP at all,
 * or a ZIP without a snapshot manifest, throws `NOT_A_SNAPSHOT`.
 */
export async function checkSnapshot(file: string): Promise<CheckReport> {
  let manifestZip: ZipArchive;
  try {
    manifestZip = await openZip(file);
  } catch (error) {
    if (!(await startsLikeZip(file))) throw error;
    return {
      file,
      entries: 0,
      bytes: 0,
      problems: [{ entry: file, problem: 'archive-damaged', detail: (error as Error).message }],
    };
  }
  let manifest: Manifest;
  try {
    manifest = await readManifest(manifestZip, file);
  } finally {
    manifestZip.close();
  }
  const expected = new Map(manifest.files.map((f) => [entryNameOf(f.path), f]));
  const { files: _files, ...summary } = manifest;
  const report: CheckReport = { file, manifest: summary, entries: 0, bytes: 0, problems: [] };
  const zip = await openZip(file);
  try {
    for await (const entry of zip.entries()) {
      if (entry.fileName === MANIFEST_NAME || entry.fileName.endsWith('/')) continue;
      report.entries++;
      const want = expected.get(entry.fileName);
      if (!want) {
        report.problems.push({ entry: entry.fileName, problem: 'not-in-manifest' });
        continue;
      }
      expected.delete(entry.fileName);
      try {
        const hasher = await newBlake3();
        let size = 0;
        for await (const chunk of await zip.read(entry)) {
          hasher.update(chunk as Buffer);
          size += (chunk as Buffer).length;
        }
        report.bytes += size;
        const blake3 = hasher.digest();
        if (size !== want.size)
          report.problems.push({
            entry: entry.fileName,
            problem: 'size-mismatch',
            detail: `${size} bytes, manifest says ${want.size}`,
          });
        else if (blake3 !== want.blake3)
          report.problems.push({
            entry: entry.fileName,
            problem: 'hash-mismatch',
            detail: `BLAKE3 ${blake3}, manifest says ${want.blake3}`,
          });
      } catch (error) {
        report.problems.push({
          entry: entry.fileName,
          problem: 'unreadable',
          detail: (error as Error).message,
        });
      }
    }
  } finally {
    zip.close();
  }
  for (const missing of expected.keys()) report.problems.push({ entry: missing, problem: 'missing' });
  for (const bad of manifest.damaged ?? []) {
    report.problems.push({
      entry: entryNameOf(bad.path),
      problem: 'damaged-when-archived',
      detail: bad.expected
        ? `archived bytes differ from the backed-up ${bad.expected.size} bytes, BLAKE3 ${bad.expected.blake3}`
        : 'archived bytes were not in the backup index',
    });
  }
  return report;
}
