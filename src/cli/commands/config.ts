import type { Command } from 'commander';
import { configPath, loadConfig, saveConfig, withField } from '../../config/index.js';
import { DaemonClient } from '../../daemon/client.js';
import type { CliContext } from '../context.js';

export function registerConfig(program: Command, context: CliContext): void {
  const config = program.command('config').description('show or change settings in config.json');

  config
    .command('show')
    .description('print the effective settings (defaults filled in)')
    .action(async () => {
      const dataDir = context.dataDir();
      const settings = await loadConfig(dataDir);
      context
        .output()
        .result({ file: configPath(dataDir), config: settings }, JSON.stringify(settings, null, 2));
    });

  config
    .command('set')
    .description('set one field, e.g. `config set syncIntervalSeconds 60` or `config set daemon.port 0`')
    .argument('<field>', 'dotted field name')
    .argument('<value>', 'new value (JSON, or plain text for strings)')
    .action(async (field: string, value: string) => {
      const dataDir = context.dataDir();
      const file = configPath(dataDir);
      const client = await DaemonClient.connect(dataDir);
      // Beside a daemon the change goes through it, so it applies what it can at once.
      const updated = client
        ? (await client.request<{ config: unknown }>('PATCH', '/config', { field, value: parseValue(value) }))
            .config
        : await saveConfig(dataDir, withField(file, await loadConfig(dataDir), field, parseValue(value)));
      context.output().result({ file, field, config: updated }, `${field} set in ${file}`);
    });
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
