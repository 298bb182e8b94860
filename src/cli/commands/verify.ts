import type { Command } from 'commander';
import { formatBytes, lazyResolver, type VerifyOutcome, verifyKey } from '../../app/index.js';
import { loadConfig } from '../../config/index.js';
import { parsePubky } from '../../identity/index.js';
import type { RemoteFinding, RemoteVerifyReport } from '../../verify/index.js';
import type { CliContext } from '../context.js';
import { INTERRUPTED_EXIT_CODE, interruptSignal } from '../interrupt.js';
import { ExitCode } from '../output.js';
import { createCountProgress } from '../progress.js';

export function registerVerify(program: Command, context: CliContext): void {
  program
    .command('verify')
    .description('compare the backup with what the homeserver serves now (listing + ETags; no download)')
    .argument('<pubky>', 'an added pubky')
    .option('--read-data', 'download every file and compare BLAKE3 hashes instead of trusting ETags')
    .action(async (text: string, options: { readData?: boolean }) => {
      const dataDir = context.dataDir();
      const output = context.output();
      const config = await loadConfig(dataDir);
      const signal = interruptSignal();
      const pkdns = lazyResolver(context.pkdnsFlags(), dataDir);
      const progress = output.json
        ? undefined
        : createCountProgress(`verifying ${parsePubky(text).z32.slice(0, 8)}…`);
      let report: VerifyOutcome;
      try {
        // Reads only: runs here even beside a daemon.
        report = await verifyKey(
          {
            dataDir,
            config,
            resolver: pkdns.resolver,
          },
          text,
          { readData: options.readData, signal, onProgress: (done, total) => progress?.update(done, total) },
        );
      } catch (error) {
        if (signal.aborted) {
          if (output.json) process.stdout.write(`${JSON.stringify({ ok: false, interrupted: true })}\n`);
          process.stderr.write('interrupted: nothing was changed; no report kept\n');
          process.exitCode = INTERRUPTED_EXIT_CODE;
          return;
        }
        throw error;
      } finally {
        progress?.stop();
        await pkdns.close();
      }
      const file = report.report;
      output.result(
        { ...report },
        describe(report, file),
        report.outcome === 'identical' ? ExitCode.ok : ExitCode.partial,
      );
    });
}

const LABELS: Record<RemoteFinding['problem'], string> = {
  missing: 'missing',
  changed: 'changed',
  'not-backed-up': 'not backed up',
  unverifiable: 'unverifiable',
};
const MAX_LISTED = 100;

function describe(report: RemoteVerifyReport, file: string): string {
  const c = report.counts;
  const how = report.readData ? `every byte read (${formatBytes(report.bytesRead)})` : 'ETags';
  const head =
    report.outcome === 'identical'
      ? `${report.pubky}  identical to ${report.homeserver}: ${c.identical} files (${how})`
      : `${report.pubky}  differs from ${report.homeserver} (${how}): ${c.identical} identical, ${c.missing} missing, ` +
        `${c.changed} changed, ${c.notBackedUp} not backed up, ${c.unverifiable} unverifiable`;
  const lines = report.findings
    .slice(0, MAX_LISTED)
    .map((f) => `  ${LABELS[f.problem].padEnd(13)}  ${f.path}  (${f.detail})`);
  if (report.findings.length > MAX_LISTED) lines.push(`  … and ${report.findings.length - MAX_LISTED} more`);
  return [head, ...lines, ...report.notes.map((note) => `  note: ${note}`), `  report: ${file}`].join('\n');
}
