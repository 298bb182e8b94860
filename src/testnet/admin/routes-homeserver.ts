import type { ServerResponse } from 'node:http';
import { HttpError, sendText } from '../homeserver/http.js';
import { isPubkyPrefixed, keyOrUndefined } from '../homeserver/pubky-host.js';
import { normalizeRequestPath, PathError } from '../homeserver/webdav-path.js';
import type { AdminContext, AdminRoute } from './admin-route.js';
import { sendJson } from './json-body.js';

/** The version of pubky-homeserver whose admin API this emulates. */
export const EMULATED_VERSION = '0.6.0';

/**
 * The admin routes of pubky-homeserver v0.6.0 (`admin_server/app.rs`, `admin_server/routes/*`).
 * All but `GET /` need `X-Admin-Password`.
 */
export const HOMESERVER_ADMIN_ROUTES: AdminRoute[] = [
  {
    method: 'GET',
    pattern: /^\/$/,
    public: true,
    handle: (_ctx, _req, res) => sendText(res, 200, 'Homeserver - Admin Endpoint'),
  },
  {
    method: 'GET',
    pattern: /^\/generate_signup_token$/,
    handle: (ctx, _req, res) => sendText(res, 200, ctx.homeserver.generateSignupToken()),
  },
  { method: 'GET', pattern: /^\/info$/, handle: (ctx, _req, res) => info(ctx, res) },
  {
    method: 'DELETE',
    pattern: /^\/webdav\/(.+)$/,
    handle: async (ctx, _req, res, [entry = '']) => {
      const { user, path } = parseEntryPath(entry);
      if (!(await ctx.homeserver.deleteFile(user, path))) throw new HttpError(404, 'Not Found');
      res.writeHead(204).end();
    },
  },
  {
    method: 'POST',
    pattern: /^\/users\/([^/]+)\/disable$/,
    handle: (ctx, _req, res, [key = '']) => setDisabled(ctx, res, key, true),
  },
  {
    method: 'POST',
    pattern: /^\/users\/([^/]+)\/enable$/,
    handle: (ctx, _req, res, [key = '']) => setDisabled(ctx, res, key, false),
  },
];

/** `GET /info` (`routes/info.rs`): counts, the key, the addresses the homeserver publishes, its version. */
function info(ctx: AdminContext, res: ServerResponse): void {
  const { homeserver } = ctx;
  let disabled = 0;
  let usedBytes = 0;
  for (const [user, record] of homeserver.state.users) {
    if (record.disabled) disabled++;
    const files = homeserver.state.filesOf(user);
    for (const path of files.withPrefix('/')) usedBytes += files.get(path)?.size ?? 0;
  }
  sendJson(res, 200, {
    num_users: homeserver.state.users.size,
    num_disabled_users: disabled,
    total_disk_used_mb: Math.floor(usedBytes / (1024 * 1024)),
    num_signup_codes: homeserver.signupTokens.total,
    num_unused_signup_codes: homeserver.signupTokens.unused,
    public_key: homeserver.publicKey.z32,
    // No pubky-TLS listener here, so no pubky address to publish.
    pkarr_pubky_address: null,
    pkarr_icann_domain: `${ctx.icannDomain}:${homeserver.port}`,
    version: EMULATED_VERSION,
  });
}

/** `POST /users/{pubkey}/disable|enable` (`routes/disable_users.rs`): 400 bad key, 404 "User not found", 200 "Ok". */
function setDisabled(ctx: AdminContext, res: ServerResponse, rawKey: string, disabled: boolean): void {
  const user = pathKey(decodeSegment(rawKey));
  if (!ctx.homeserver.state.users.has(user)) throw new HttpError(404, 'User not found');
  ctx.homeserver.setUserDisabled(user, disabled);
  sendText(res, 200, 'Ok');
}

/**
 * `EntryPathPub` from the `/webdav/{*entry_path}` route: `<z32>/pub/…`, percent-decoded and
 * normalised like a tenant path; 400 otherwise.
 */
function parseEntryPath(raw: string): { user: string; path: string } {
  let decodedPath: string;
  const slash = raw.indexOf('/');
  if (slash === -1) throw new HttpError(400, "Invalid URL: Missing '/'");
  const user = pathKey(decodeSegment(raw.slice(0, slash)));
  try {
    decodedPath = normalizeRequestPath(raw.slice(slash));
  } catch (error) {
    if (error instanceof PathError) throw new HttpError(400, `Invalid URL: ${error.message}`);
    throw error;
  }
  if (!decodedPath.startsWith('/pub/')) throw new HttpError(400, 'Invalid URL: Path must start with /pub/');
  return { user, path: decodedPath };
}

/** A key in a route path (`Z32Pubkey`): no `pubky` prefix; 400 otherwise. */
function pathKey(text: string): string {
  if (isPubkyPrefixed(text))
    throw new HttpError(400, 'Invalid URL: unexpected `pubky` prefix; expected raw z32');
  const key = keyOrUndefined(text);
  if (key === undefined) throw new HttpError(400, `Invalid URL: invalid public key ${JSON.stringify(text)}`);
  return key;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'Invalid URL: invalid percent-encoding');
  }
}
