import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCheckKey } from './commands/check-key.js';
import { registerConfig } from './commands/config.js';
import { registerTestnet } from './commands/testnet.js';
import { createContext } from './context.js';

export function toolVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return String(pkg.version);
}

export function buildProgram(): Command {
  const program = new Command('pubky-backup')
    .description('Keep a local, verified, always-current backup of what a Pubky user published.')
    .version(toolVersion(), '-V, --version')
    .option('--data-dir <dir>', 'where backups and settings live (env PUBKY_BACKUP_HOME)', undefined)
    .option('--json', 'machine-readable output: one JSON object per result')
    .showHelpAfterError('(run with --help for usage)');
  const context = createContext(program);
  registerCheckKey(program, context);
  registerConfig(program, context);
  registerTestnet(program, context);
  return program;
}
