import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const DATA_DIR_ENV = 'PUBKY_BACKUP_HOME';

/** `--data-dir` wins over `PUBKY_BACKUP_HOME`, which wins over `~/.pubky-backup`. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env[DATA_DIR_ENV];
  if (chosen !== undefined && chosen.trim() !== '') return resolve(chosen);
  return join(homedir(), '.pubky-backup');
}
