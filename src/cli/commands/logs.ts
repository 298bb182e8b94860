import { createReadStream, existsSync, statSync, watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Command, InvalidArgumentError } from 'commander';
import { logsDir } from '../../daemon/logger.js';
import type { CliContext } from '../context.js';

export function registerLogs(program: Command, context: CliContext): void {
  program
    .command('logs')
    .description("print the daemon's log (JSON lines in <data dir>/logs/); -f follows it")
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('-n, --lines <n>', 'only the last n lines', positiveCount)
    .action(async (options: { follow?: boolean; lines?: number }) => {
      const dir = logsDir(context.dataDir());
      const file = await currentLog(dir);
      if (!file) {
        process.stderr.write(`no logs yet in ${dir} (the daemon writes them)\n`);
        return;
      }
      const json = context.output().json;
      const lines: string[] = [];
      for await (const line of createInterface({ input: createReadStream(file) })) lines.push(line);
      for (const line of options.lines ? lines.slice(-options.lines) : lines) print(line, json);
      if (!options.follow) return;
      let offset = statSync(file).size;
      await new Promise<void>((resolve) => {
        const watcher = watch(file, () => {
          const size = statSync(file).size;
          if (size < offset) offset = 0; // rotated
          if (size === offset) return;
          const stream = createReadStream(file, { start: offset, end: size - 1 });
          offset = size;
          void (async () => {
            for await (const line of createInterface({ input: stream })) print(line, json);
          })();
        });
        process.once('SIGINT', () => {
          watcher.close();
          resolve();
        });
      });
    });
}

/** `current.log` (the link pino-roll keeps), else the newest `daemon.<n>.log`. */
async function currentLog(dir: string): Promise<string | undefined> {
  if (existsSync(join(dir, 'current.log'))) return join(dir, 'current.log');
  if (!existsSync(dir)) return undefined;
  const files = (await readdir(dir)).filter((name) => /^daemon\..*log$/.test(name));
  files.sort((a, b) => statSync(join(dir, a)).mtimeMs - statSync(join(dir, b)).mtimeMs);
  const newest = files.at(-1);
  return newest && join(dir, newest);
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** A log line for people: `time  level  message  {details}`; with --json the raw line. */
function print(line: string, json: boolean): void {
  if (json || line.trim() === '') {
    if (line.trim() !== '') process.stdout.write(`${line}\n`);
    return;
  }
  try {
    const {
      time,
      level,
      msg,
      pid: _pid,
      hostname: _host,
      ...rest
    } = JSON.parse(line) as Record<string, unknown>;
    const details = Object.keys(rest).length > 0 ? `  ${JSON.stringify(rest)}` : '';
    process.stdout.write(
      `${new Date(Number(time)).toISOString()}  ${(LEVELS[Number(level)] ?? level) as string}  ${msg as string}${details}\n`,
    );
  } catch {
    process.stdout.write(`${line}\n`);
  }
}

function positiveCount(value: string): number {
  if (!/^[1-9]\d*$/.test(value))
    throw new InvalidArgumentError('expected a whole number of lines, 1 or more');
  return Number(value);
}
