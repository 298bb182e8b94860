import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { BackupError } from '../errors.js';

export const PASSPHRASE_ENV = 'PUBKY_BACKUP_PASSPHRASE';

/**
 * The recovery file's passphrase: `PUBKY_BACKUP_PASSPHRASE` when set (scripts), else asked on the
 * terminal without echo. Never printed, logged or written anywhere. Without either: a
 * `NO_PASSPHRASE` error saying how to give one.
 */
export async function askPassphrase(): Promise<string> {
  const fromEnv = process.env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY) {
    throw new BackupError(
      'NO_PASSPHRASE',
      `The recovery file needs its passphrase: run on a terminal to type it, or set ${PASSPHRASE_ENV}.`,
      'usage',
    );
  }
  return promptHidden('Passphrase of the recovery file: ');
}

/** Reads one line from the terminal; what is typed is not echoed (readline writes to a sink). */
function promptHidden(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: sink, terminal: true });
  return new Promise<string>((resolve, reject) => {
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      resolve(line);
      rl.close();
    });
    rl.once('SIGINT', () => rl.close());
    rl.once('close', () => {
      process.stderr.write('\n');
      if (!answered)
        reject(new BackupError('NO_PASSPHRASE', 'No passphrase given: nothing was done.', 'usage'));
    });
  });
}
