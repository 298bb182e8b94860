import type { HomeserverContext } from './context.js';
import { HttpError } from './http.js';
import type { UserRecord } from './state.js';

/**
 * `get_user_or_http_error` (pubky-homeserver v0.6.0 `client_server/err_if_user_is_invalid.rs`):
 * 404 "Not Found" for an unknown user, 403 "User is disabled" when `refuseDisabled` (writes).
 */
export function requireUser(ctx: HomeserverContext, user: string, refuseDisabled: boolean): UserRecord {
  const record = ctx.state.users.get(user);
  if (!record) throw new HttpError(404, 'Not Found');
  if (refuseDisabled && record.disabled) throw new HttpError(403, 'User is disabled');
  return record;
}
