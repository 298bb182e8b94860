import { BackupError } from '../errors.js';

export class ConfigError extends BackupError {
  override readonly name = 'ConfigError';
  constructor(
    readonly file: string,
    /** Dotted path of the offending field, or undefined when the file as a whole is unreadable. */
    readonly field: string | undefined,
    message: string,
  ) {
    super('CONFIG_INVALID', message, 'invalid', { file, field: field ?? null });
  }
}
