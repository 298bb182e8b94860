import { stat } from 'node:fs/promises';
import { RestoreError } from './errors.js';

/** One file a restore can upload. */
export interface SourceFile {
  /** Homeserver path, `/pub/…`. */
  path: string;
  size: number;
  /**
   * BLAKE3 (base64) the bytes must have: from the backup's index or the snapshot's manifest;
   * undefined for a plain folder, which vouches for nothing.
   */
  blake3?: string;
  /** The bytes, streamed; each call reads them again (a retried upload). */
  read(): AsyncIterable<Uint8Array>;
  /** The bytes at once, where that is cheaper (one file read); used for small files. */
  readWhole?(): Promise<Uint8Array>;
}

/** Where a restore reads from: the key's mirror, a snapshot, or a folder laid out like `data/`. */
export interface RestoreSource {
  kind: 'mirror' | 'snapshot' | 'folder';
  /** The folder or file read, for messages. */
  location: string;
  files: SourceFile[];
  /** Files the source has but cannot provide intact, each with why: never uploaded, counted as failed. */
  unusable: Array<{ path: string; reason: string }>;
  /** Things the user should know about the source (files the backup does not hold yet…). */
  notes: string[];
  close(): Promise<void>;
}

/** What `--from` (and `--at`) asked for. */
export type SourceSpec =
  | { kind: 'mirror' }
  | { kind: 'snapshot'; file?: string; at?: Date }
  | { kind: 'folder'; dir: string };

/**
 * Reads `--from`: `mirror` (the default: the key's `data/`), `snapshot` (the key's newest snapshot,
 * or with `at` the one current at that time; `--at` alone means this too), a snapshot file
 * (`.zip`), or a folder laid out like `data/` (`<dir>/pub/…`, e.g. `snapshot extract` output).
 * Errors: `RestoreError` `BAD_SOURCE`.
 */
export async function sourceSpecOf(from: string | undefined, at?: Date): Promise<SourceSpec> {
  if (from === undefined || from === 'snapshot')
    return at || from ? { kind: 'snapshot', at } : { kind: 'mirror' };
  if (from === 'mirror') {
    if (at)
      throw new RestoreError(
        'BAD_SOURCE',
        'A time picks one of the key’s snapshots; it does not apply to the mirror.',
      );
    return { kind: 'mirror' };
  }
  const info = await stat(from).catch(() => undefined);
  if (!info) {
    throw new RestoreError(
      'BAD_SOURCE',
      `${JSON.stringify(from)} is no such file or folder: a restore reads the mirror, the key’s snapshots, a snapshot .zip or a folder.`,
    );
  }
  if (at) {
    throw new RestoreError(
      'BAD_SOURCE',
      'A time picks one of the key’s snapshots; it does not apply to a given file or folder.',
    );
  }
  return info.isDirectory() ? { kind: 'folder', dir: from } : { kind: 'snapshot', file: from };
}
