#!/usr/bin/env node
import { CommanderError } from 'commander';
import { createOutput, ExitCode, reportError } from './output.js';
import { buildProgram } from './program.js';

const program = buildProgram();
program.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here with code 0; usage mistakes were already printed by commander.
    process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.error;
  } else {
    process.exitCode = reportError(createOutput(program.opts().json === true), error);
  }
}
