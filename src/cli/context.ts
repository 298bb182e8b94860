import type { Command } from 'commander';
import { resolveDataDir } from '../config/index.js';
import { createOutput, type Output } from './output.js';

/** What every command needs from the global options, read lazily after commander parsed them. */
export interface CliContext {
  dataDir(): string;
  output(): Output;
}

export function createContext(program: Command): CliContext {
  const globals = () => program.opts<{ dataDir?: string; json?: boolean }>();
  return {
    dataDir: () => resolveDataDir(globals().dataDir),
    output: () => createOutput(globals().json === true),
  };
}
