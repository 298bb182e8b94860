/** pino-roll 4 ships no types: the part this project uses (a SonicBoom stream that rolls files). */
declare module 'pino-roll' {
  import type { Writable } from 'node:stream';

  interface RollOptions {
    file: string;
    extension?: string;
    frequency?: 'daily' | 'hourly' | number;
    size?: string | number;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    mkdir?: boolean;
    symlink?: boolean;
  }

  export default function roll(options: RollOptions): Promise<Writable & { end(): void }>;
}
