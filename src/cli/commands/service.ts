import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { findDaemon } from '../../daemon/daemon-file.js';
import {
  installService,
  type ServiceReport,
  type ServiceSpec,
  serviceStatus,
  systemContext,
  temporaryInstallWarning,
  uninstallService,
} from '../../service/index.js';
import type { CliContext } from '../context.js';

export function registerService(program: Command, context: CliContext): void {
  const service = program
    .command('service')
    .description('start the daemon at login: systemd user unit, launchd agent, Windows Startup folder');
  const spec = (): ServiceSpec => ({
    node: process.execPath,
    cli: fileURLToPath(new URL('../main.js', import.meta.url)),
    dataDir: context.dataDir(),
  });

  service
    .command('install')
    .description('write the login item for this data folder and enable it (and start it now)')
    .option('--dry-run', 'print the file and the commands, change nothing')
    .action(async (options: { dryRun?: boolean }) => {
      const wanted = spec();
      const warning = temporaryInstallWarning(wanted);
      const running = await findDaemon(wanted.dataDir);
      const report = await installService(wanted, systemContext(), {
        dryRun: options.dryRun,
        daemonRunning: running !== undefined,
      });
      if (warning) report.notes.unshift(warning);
      context.output().result({ ...report }, describe(report, 'install'));
    });

  service
    .command('uninstall')
    .description('remove the login item (stopping the service where the OS can)')
    .option('--dry-run', 'print what would be removed and the commands, change nothing')
    .action(async (options: { dryRun?: boolean }) => {
      const report = await uninstallService(systemContext(), { dryRun: options.dryRun });
      const human = report.dryRun
        ? describe(report, 'uninstall')
        : [
            report.removed ? `removed ${report.file}` : `nothing to remove: ${report.file} does not exist`,
            ...report.commands.map(
              (c) => `ran: ${c.argv.join(' ')}${c.code ? ` (exit code ${c.code})` : ''}`,
            ),
            ...report.notes,
          ].join('\n');
      context.output().result({ ...report }, human);
    });

  service
    .command('status')
    .description('whether the login item is installed, enabled and running (exit 1 when not installed)')
    .action(async () => {
      const wanted = spec();
      const status = await serviceStatus(wanted, systemContext());
      const daemon = await findDaemon(wanted.dataDir);
      const tell = (value: boolean | null) => (value === null ? 'unknown' : value ? 'yes' : 'no');
      const human = [
        `${status.manager}: ${status.file}`,
        `installed: ${tell(status.installed)}${status.outdated ? ' (out of date: run service install again)' : ''}`,
        `enabled at login: ${tell(status.installed ? status.enabled : false)}`,
        `running under ${status.manager}: ${tell(status.running)}`,
        `daemon on ${wanted.dataDir}: ${daemon ? `running (pid ${daemon.pid})` : 'not running'}`,
      ].join('\n');
      context
        .output()
        .result(
          { ...status, daemon: daemon ? { pid: daemon.pid, port: daemon.port } : null },
          human,
          status.installed ? 0 : 1,
        );
    });
}

/** What install (or a dry run of install/uninstall) did, for people. */
function describe(report: ServiceReport, what: 'install' | 'uninstall'): string {
  if (report.dryRun) {
    const lines = [`dry run: nothing written or run`];
    if (what === 'install') lines.push(`would write ${report.file}:`, '', report.content ?? '');
    if (what === 'install' && report.link) lines.push(`would link ${report.link} -> ${report.file}`);
    else lines.push(`would remove ${report.file}`);
    if (report.commands.length > 0)
      lines.push('would run:', ...report.commands.map((c) => `  ${c.argv.join(' ')}`));
    lines.push(...report.notes);
    return lines.join('\n');
  }
  return [
    `wrote ${report.file}`,
    ...(report.link ? [`linked ${report.link} -> ${report.file}`] : []),
    ...report.commands.map((c) => `ran: ${c.argv.join(' ')}${c.code ? ` (exit code ${c.code})` : ''}`),
    report.enabled
      ? `the daemon starts at login${report.started ? ' and runs now' : ''}`
      : 'not enabled: see the notes',
    ...report.notes,
  ].join('\n');
}
