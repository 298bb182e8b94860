import { type Command, InvalidArgumentError } from 'commander';
import { formatBytes, requireAddedKey, selectKeys } from '../../app/index.js';
import { loadConfig } from '../../config/index.js';
import { BackupStore, FileIndex, KeyLayout } from '../../store/index.js';
import { acquireInstanceLock } from '../../util/instance-lock.js';
import { listVersions, pruneVersions, restoreVersion } from '../../versions/index.js';
import type { CliContext } from '../context.js';
import { BackupError } from '../output.js';
import { parseTime } from '../restore-options.js';

export function registerVersions(program: Command, context: CliContext): void {
  const versions = program
    .command('versions')
    .description('previous versions of overwritten and deleted files (kept in versions/)');

  versions
    .command('list')
    .description('list the previous versions of a pubky’s files (or of one file), oldest first')
    .argument('<pubky>', 'an added pubky')
    .argument('[path]', 'a homeserver path such as /pub/pubky.app/profile.json')
    .action(async (text: string, path: string | undefined) => {
      const layout = requireAddedKey(context.dataDir(), text);
      const found = await listVersions(BackupStore.openFs(layout.keyDir), path && homeserverPath(path));
      context.output().result(
        {
          pubky: layout.z32,
          versions: found.map((v) => ({ ...v, versionedAt: v.versionedAt.toISOString() })),
        },
        found
          .map((v) => `${v.versionedAt.toISOString()}  ${formatBytes(v.size).padStart(9)}  ${v.path}`)
          .join('\n') || (path ? `no previous versions of ${path}` : 'no previous versions'),
      );
    });

  versions
    .command('restore')
    .description('put a previous version back into the backup’s mirror (the current copy becomes a version)')
    .argument('<pubky>', 'an added pubky')
    .argument('<path>', 'a homeserver path such as /pub/pubky.app/profile.json')
    .option(
      '--at <time>',
      'the version that was current at this time (ISO 8601); default: the newest version',
      parseTime,
    )
    .action(async (text: string, path: string, options: { at?: Date }) => {
      const dataDir = context.dataDir();
      const layout = requireAddedKey(dataDir, text);
      const lock = await acquireInstanceLock(dataDir, 'versions restore');
      try {
        const restored = await restoreVersion(
          BackupStore.openFs(layout.keyDir),
          layout,
          homeserverPath(path),
          options,
        );
        const when = restored.version.versionedAt.toISOString();
        context
          .output()
          .result(
            { pubky: layout.z32, ...restored, version: { ...restored.version, versionedAt: when } },
            restored.changed
              ? `restored ${restored.path} as it was until ${when}` +
                  (restored.replaced ? `; the copy it replaced is kept as ${restored.replaced}` : '') +
                  '\nnote: the backup now differs from the homeserver for this file until it changes there again.'
              : `${restored.path} already holds the version from ${when}; nothing changed`,
          );
      } finally {
        await lock.release();
      }
    });

  versions
    .command('prune')
    .description('delete versions older than the retention (config versions.keepDays, default 365 days)')
    .argument('[pubky...]', 'only these pubkys')
    .option('--keep-days <n>', 'keep versions of the last n days (0 = keep all)', days)
    .option('--dry-run', 'only show what would be deleted')
    .action(async (texts: string[], options: { keepDays?: number; dryRun?: boolean }) => {
      const dataDir = context.dataDir();
      const keepDays = options.keepDays ?? (await loadConfig(dataDir)).versions.keepDays;
      const removed = [];
      let kept = 0;
      // The versions journal has one writer: not beside a running sync (which prunes daily itself).
      const lock = options.dryRun ? undefined : await acquireInstanceLock(dataDir, 'versions prune');
      try {
        for (const pubky of await selectKeys(dataDir, texts)) {
          const layout = new KeyLayout(dataDir, pubky);
          const plan = await pruneVersions(
            BackupStore.openFs(layout.keyDir),
            await FileIndex.open(layout.versionsIndexFile),
            {
              keepDays,
              dryRun: options.dryRun,
            },
          );
          removed.push(
            ...plan.remove.map((v) => ({
              pubky,
              path: v.path,
              storePath: v.storePath,
              versionedAt: v.versionedAt.toISOString(),
            })),
          );
          kept += plan.keep;
        }
      } finally {
        await lock?.release();
      }
      const verb = options.dryRun ? 'would be deleted' : 'deleted';
      context
        .output()
        .result(
          { dryRun: options.dryRun === true, keepDays, removed, kept },
          [
            ...removed.map(
              (r) => `${options.dryRun ? 'would delete' : 'deleted'}  ${r.versionedAt}  ${r.path}`,
            ),
            `${removed.length} versions ${verb}, ${kept} kept (${keepDays === 0 ? 'keeping all' : `keeping ${keepDays} days`})`,
          ].join('\n'),
        );
    });
}

function homeserverPath(path: string): string {
  const clean = path.startsWith('/') ? path : `/${path}`;
  if (!clean.startsWith('/pub/'))
    throw new BackupError(
      'BAD_PATH',
      `A homeserver path starts with /pub/, got ${JSON.stringify(path)}.`,
      'usage',
    );
  return clean;
}

function days(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number of days (0 = keep all)');
  return Number(value);
}
