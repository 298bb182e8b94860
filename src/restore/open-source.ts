import type { KeyLayout } from '../store/index.js';
import type { RestoreSource, SourceSpec } from './source.js';
import { openFolderSource } from './source-folder.js';
import { openMirrorSource } from './source-mirror.js';
import { chooseSnapshot, openSnapshotSource } from './source-snapshot.js';

/**
 * Opens what `spec` names for `layout`'s pubky: the mirror, a snapshot (given, or chosen among the
 * key's: newest, or current at `spec.at`), or a folder. None of them needs the old homeserver.
 */
export async function openRestoreSource(spec: SourceSpec, layout: KeyLayout): Promise<RestoreSource> {
  switch (spec.kind) {
    case 'mirror':
      return openMirrorSource(layout);
    case 'folder':
      return openFolderSource(spec.dir);
    case 'snapshot':
      return openSnapshotSource(spec.file ?? (await chooseSnapshot(layout, spec.at)), layout.z32);
  }
}
