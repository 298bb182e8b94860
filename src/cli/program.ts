import { Command } from 'commander';
import { registerAdd } from './commands/add.js';
import { registerCheck } from './commands/check.js';
import { registerCheckKey } from './commands/check-key.js';
import { registerConfig } from './commands/config.js';
import { registerDaemon } from './commands/daemon.js';
import { registerDemo } from './commands/demo.js';
import { registerList } from './commands/list.js';
import { registerLogs } from './commands/logs.js';
import { registerMigrate } from './commands/migrate.js';
import { registerMoveBackup } from './commands/move-backup.js';
import { registerOpen } from './commands/open.js';
import { registerReindex } from './commands/reindex.js';
import { registerRemove } from './commands/remove.js';
import { registerResolve } from './commands/resolve.js';
import { registerRestore } from './commands/restore.js';
import { registerPauseResume } from './commands/resume.js';
import { registerService } from './commands/service.js';
import { registerSnapshot } from './commands/snapshot.js';
import { registerStatus } from './commands/status.js';
import { registerSync } from './commands/sync.js';
import { registerTestnet } from './commands/testnet.js';
import { registerTray } from './commands/tray.js';
import { registerVerify } from './commands/verify.js';
import { registerVersions } from './commands/versions.js';
import { createContext } from './context.js';
import { toolVersion } from './tool-version.js';

export function buildProgram(): Command {
  const program = new Command('pubky-backup')
    .description('Keep a local, verified, always-current backup of what a Pubky user published.')
    .version(toolVersion(), '-V, --version')
    .option('--data-dir <dir>', 'where backups and settings live (env PUBKY_BACKUP_HOME)', undefined)
    .option('--json', 'machine-readable output: one JSON object per result')
    .option('--relay <url>', 'pkarr relay to use (repeatable; env PUBKY_RELAYS)', collect)
    .option('--no-dht', 'do not use the Mainline DHT for PKDNS')
    .option('--dht-bootstrap <host:port>', 'DHT bootstrap node (repeatable)', collect)
    .showHelpAfterError('(run with --help for usage)');
  const context = createContext(program);
  registerAdd(program, context);
  registerRemove(program, context);
  registerList(program, context);
  registerSync(program, context);
  registerStatus(program, context);
  registerPauseResume(program, context);
  registerReindex(program, context);
  registerCheck(program, context);
  registerVersions(program, context);
  registerSnapshot(program, context);
  registerVerify(program, context);
  registerRestore(program, context);
  registerMigrate(program, context);
  registerResolve(program, context);
  registerCheckKey(program, context);
  registerConfig(program, context);
  registerDaemon(program, context);
  registerLogs(program, context);
  registerOpen(program, context);
  registerMoveBackup(program, context);
  registerTray(program, context);
  registerService(program, context);
  registerTestnet(program, context);
  registerDemo(program, context);
  return program;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
