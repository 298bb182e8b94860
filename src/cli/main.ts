#!/usr/bin/env node
import { type Command, CommanderError } from 'commander';
import { BackupError } from '../errors.js';
import { createOutput, ExitCode, reportError } from './output.js';
import { buildProgram } from './program.js';

const program = buildProgram();
const json = process.argv.includes('--json');
const output = createOutput(json);
// Usage mistakes (unknown option, missing argument, a bad value) are errors: exit 2, and with
// --json one JSON line instead of commander's text.
const configure = (command: Command) => {
  command.exitOverride();
  if (json) command.configureOutput({ writeErr: () => {}, outputError: () => {} });
  for (const sub of command.commands) configure(sub);
};
configure(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here with code 0.
    if (
      error.exitCode === 0 ||
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version'
    ) {
      process.exitCode = ExitCode.ok;
    } else {
      const message = error.message.replace(/^error: /, '');
      if (json) output.error(new BackupError('USAGE', message, 'usage', { commander: error.code }));
      process.exitCode = ExitCode.error;
    }
  } else {
    process.exitCode = reportError(output, error);
  }
}
