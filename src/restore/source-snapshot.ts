import { listSnapshots, MANIFEST_NAME, openZip, readManifest, SnapshotError } from '../snapshot/index.js';
import { hasControlChar, type KeyLayout } from '../store/index.js';
import { RestoreError } from './errors.js';
import type { RestoreSource, SourceFile } from './source.js';

/**
 * The snapshot a restore reads when none is named: the key's newest, or with `at` the newest one
 * created at or before that time (the one current then). Errors: `RestoreError` `NO_SNAPSHOT`.
 */
export async function chooseSnapshot(layout: KeyLayout, at?: Date): Promise<string> {
  const snapshots = await listSnapshots(layout);
  const eligible = at ? snapshots.filter((s) => s.createdAt.getTime() <= at.getTime()) : snapshots;
  const chosen = eligible.at(-1);
  if (!chosen) {
    throw new RestoreError(
      'NO_SNAPSHOT',
      snapshots.length === 0
        ? `${layout.z32} has no snapshots in ${layout.snapshotsDir}.`
        : `No snapshot of ${layout.z32} was made at or before ${at?.toISOString()}; the oldest is from ${snapshots[0]?.createdAt.toISOString()}.`,
    );
  }
  return chosen.file;
}

/**
 * A snapshot (our ZIP: entries `pub/…` with real names, `manifest.json` with each file's BLAKE3)
 * as a restore source. Entries are read on demand (several at once); each upload is verified
 * against the manifest's BLAKE3 while it streams. Entries the manifest records as damaged when
 * archived, or that it does not list, are `unusable`. Errors: `SnapshotError` for a file that is
 * no snapshot, `RestoreError` `SOURCE_MISMATCH` for another pubky's snapshot.
 */
export async function openSnapshotSource(file: string, pubky: string): Promise<RestoreSource> {
  const manifestZip = await openZip(file);
  const manifest = await readManifest(manifestZip, file).finally(() => manifestZip.close());
  if (manifest.pubky !== pubky) {
    throw new RestoreError('SOURCE_MISMATCH', `${file} is a snapshot of ${manifest.pubky}, not of ${pubky}.`);
  }
  const hashes = new Map(manifest.files.map((f) => [f.path.startsWith('/') ? f.path : `/${f.path}`, f]));
  const damaged = new Map(
    (manifest.damaged ?? []).map((d) => [d.path.startsWith('/') ? d.path : `/${d.path}`, d.problem]),
  );
  const zip = await openZip(file);
  const files: SourceFile[] = [];
  const unusable: RestoreSource['unusable'] = [];
  try {
    for await (const entry of zip.entries()) {
      if (entry.fileName === MANIFEST_NAME || entry.fileName.endsWith('/')) continue;
      const path = `/${entry.fileName}`;
      const listed = hashes.get(path);
      if (!isHomeserverPath(path)) unusable.push({ path, reason: 'not a homeserver path under /pub/' });
      else if (!listed) unusable.push({ path, reason: 'not listed in the manifest' });
      else if (damaged.get(path) === 'damaged') {
        unusable.push({ path, reason: 'the snapshot records these bytes as damaged when archived' });
      } else if (listed.size !== entry.uncompressedSize) {
        unusable.push({ path, reason: `${entry.uncompressedSize} bytes, the manifest says ${listed.size}` });
      } else {
        files.push({
          path,
          size: listed.size,
          blake3: listed.blake3,
          read: () => entryChunks(() => zip.read(entry)),
        });
      }
      hashes.delete(path);
    }
  } catch (error) {
    zip.close();
    throw error instanceof SnapshotError
      ? error
      : new SnapshotError('DAMAGED', `${file} is damaged: ${(error as Error).message}`);
  }
  for (const path of hashes.keys())
    unusable.push({ path, reason: 'listed in the manifest, missing from the archive' });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    kind: 'snapshot',
    location: file,
    files,
    unusable,
    notes: [`snapshot of ${manifest.created_at}, cursor ${manifest.cursor}`],
    close: async () => zip.close(),
  };
}

async function* entryChunks(open: () => Promise<AsyncIterable<Uint8Array>>): AsyncGenerator<Uint8Array> {
  yield* await open();
}

function isHomeserverPath(path: string): boolean {
  const segments = path.slice(1).split('/');
  return (
    segments[0] === 'pub' &&
    segments.length >= 2 &&
    segments.every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\\')) &&
    !hasControlChar(path)
  );
}
