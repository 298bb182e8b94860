import type { Command } from 'commander';
import type { PkdnsFlags } from '../app/index.js';
import { resolveDataDir } from '../config/index.js';
import { createOutput, type Output } from './output.js';
import { toolVersion } from './tool-version.js';

/** What every command needs from the global options, read lazily after commander parsed them. */
export interface CliContext {
  dataDir(): string;
  output(): Output;
  pkdnsFlags(): PkdnsFlags;
  /** `pubky-backup <version>`, recorded in snapshots. */
  tool(): string;
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
    tool: () => `pubky-backup ${toolVersion()}`,
  };
}
