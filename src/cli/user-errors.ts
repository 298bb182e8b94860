import { HomeserverError } from '../homeserver/index.js';
import { RestoreError } from '../restore/index.js';
import { CliError } from './output.js';

/**
 * Errors of restore, migrate and verify that are the user's to act on, as `CliError`s (printed
 * without a stack trace, exit 2); anything else is passed on unchanged.
 */
export function asUserError(error: unknown): unknown {
  if (error instanceof RestoreError) return new CliError(error.code, error.message);
  if (error instanceof HomeserverError && error.kind !== 'aborted') {
    return new CliError(`HOMESERVER_${error.kind.toUpperCase().replace('-', '_')}`, error.message);
  }
  return error;
}
