import type { Command } from 'commander';
import { resolveDataDir } from '../config/index.js';
import { createOutput, type Output } from './output.js';
import type { PkdnsFlags } from './pkdns-setup.js';

/** What every command needs from the global options, read lazily after commander parsed them. */
export interface CliContext {
  dataDir(): string;
  output(): Output;
  pkdnsFlags(): PkdnsFlags;
}

export function createContext(program: Command): CliContext {
  const globals = () => program.opts<{ dataDir?: string; json?: boolean } & PkdnsFlags>();
  return {
    dataDir: () => resolveDataDir(globals().dataDir),
    output: () => createOutput(globals().json === true),
    pkdnsFlags: () => {
      const { relay, dht, dhtBootstrap } = globals();
      return { relay, dht, dhtBootstrap };
    },
  };
}
