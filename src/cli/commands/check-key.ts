import type { Command } from 'commander';
import { parsePubky } from '../../identity/index.js';
import type { CliContext } from '../context.js';

export function registerCheckKey(program: Command, context: CliContext): void {
  program
    .command('check-key')
    .description('validate a pubky in any pasted form and print its canonical z-base-32 form')
    .argument('<text>', 'pubky, pubky<key>, pk:<key>, pubky://<key>/…, or a profile link')
    .action((text: string) => {
      const key = parsePubky(text);
      context.output().result({ pubky: key.z32, display: key.toDisplay() }, key.z32);
    });
}
