import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Homeserver } from '../homeserver/index.js';

/** What an admin route handler may touch. */
export interface AdminContext {
  homeserver: Homeserver;
  /** The domain the homeserver publishes for ICANN HTTP (`localhost` on a testnet). */
  icannDomain: string;
}

/** One route of the admin server. */
export interface AdminRoute {
  method: string;
  /** Matched against the raw request path; capture groups are handed to `handle`, still encoded. */
  pattern: RegExp;
  /** True for the few routes that need no `X-Admin-Password` (pubky-homeserver's public router). */
  public?: boolean;
  handle(
    ctx: AdminContext,
    req: IncomingMessage,
    res: ServerResponse,
    params: string[],
  ): void | Promise<void>;
}
