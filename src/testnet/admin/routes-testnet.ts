import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { parsePubky } from '../../identity/index.js';
import { HttpError } from '../homeserver/http.js';
import type { FileTamper } from '../homeserver/index.js';
import { normalizeWebDavPath, PathError } from '../homeserver/webdav-path.js';
import type { AdminContext, AdminRoute } from './admin-route.js';
import { activeRuleToJson, FaultRuleJsonSchema, faultRuleFromJson } from './fault-json.js';
import { readJson, readJsonValue, sendJson, validate } from './json-body.js';

/**
 * Test controls of the Pubky Backup testnet, next to pubky-homeserver's own admin routes and
 * behind the same `X-Admin-Password`: take the homeserver off the network and back, change the
 * signup mode, inject faults, change stored files behind the feed's back, wipe files, add raw
 * feed lines. Every answer is JSON.
 */
export const TESTNET_ADMIN_ROUTES: AdminRoute[] = [
  { method: 'GET', pattern: /^\/testnet$/, handle: (ctx, _req, res) => sendJson(res, 200, status(ctx)) },
  {
    method: 'POST',
    pattern: /^\/testnet\/stop$/,
    handle: async (ctx, _req, res) => {
      await ctx.homeserver.stop();
      sendJson(res, 200, status(ctx));
    },
  },
  {
    method: 'POST',
    pattern: /^\/testnet\/start$/,
    handle: async (ctx, _req, res) => {
      await ctx.homeserver.resume();
      sendJson(res, 200, status(ctx));
    },
  },
  {
    method: 'POST',
    pattern: /^\/testnet\/signup-mode$/,
    handle: async (ctx, req, res) => {
      const { mode } = await readJson(req, z.strictObject({ mode: z.enum(['open', 'token']) }));
      ctx.homeserver.setSignupMode(mode);
      sendJson(res, 200, status(ctx));
    },
  },
  {
    method: 'GET',
    pattern: /^\/testnet\/faults$/,
    handle: (ctx, _req, res) =>
      sendJson(res, 200, { rules: ctx.homeserver.faults.list().map(activeRuleToJson) }),
  },
  { method: 'POST', pattern: /^\/testnet\/faults$/, handle: addFaults },
  {
    method: 'DELETE',
    pattern: /^\/testnet\/faults$/,
    handle: (ctx, _req, res) => sendJson(res, 200, { cleared: ctx.homeserver.faults.clear() }),
  },
  {
    method: 'DELETE',
    pattern: /^\/testnet\/faults\/(\d+)$/,
    handle: (ctx, _req, res, [id = '']) => {
      if (!ctx.homeserver.faults.remove(Number(id))) throw new HttpError(404, `No fault rule ${id}`);
      res.writeHead(204).end();
    },
  },
  { method: 'POST', pattern: /^\/testnet\/tamper$/, handle: tamper },
  { method: 'POST', pattern: /^\/testnet\/mass-delete$/, handle: massDelete },
  { method: 'POST', pattern: /^\/testnet\/events$/, handle: injectEvent },
];

function status({ homeserver }: AdminContext) {
  return {
    running: homeserver.isRunning,
    url: homeserver.url,
    key: homeserver.publicKey.z32,
    signupMode: homeserver.signupMode,
  };
}

/** `POST /testnet/faults`: one rule (→ `{ "id" }`) or an array of rules (→ `{ "ids" }`), 201. */
async function addFaults(ctx: AdminContext, req: IncomingMessage, res: ServerResponse) {
  const value = await readJsonValue(req);
  // Checked by shape, so errors name the rule's field rather than "not one of the alternatives".
  const body = Array.isArray(value)
    ? validate(z.array(FaultRuleJsonSchema).min(1), value)
    : validate(FaultRuleJsonSchema, value);
  const rules = (Array.isArray(body) ? body : [body]).map((json) => {
    try {
      return faultRuleFromJson(json);
    } catch (error) {
      throw new HttpError(400, `Invalid body: ${(error as Error).message}`);
    }
  });
  const ids = rules.map((rule) => ctx.homeserver.faults.addRule(rule));
  sendJson(res, 201, Array.isArray(body) ? { ids } : { id: ids[0] });
}

const UserSchema = z.string().transform((text, issue) => {
  try {
    return parsePubky(text).z32;
  } catch (error) {
    issue.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const PubPathSchema = z.string().transform((text, issue) => {
  try {
    const path = normalizeWebDavPath(text);
    if (path.startsWith('/pub/') && !path.endsWith('/')) return path;
    issue.addIssue({ code: 'custom', message: 'a file path under /pub/ is needed' });
  } catch (error) {
    if (!(error instanceof PathError)) throw error;
    issue.addIssue({ code: 'custom', message: error.message });
  }
  return z.NEVER;
});

const TamperSchema = z
  .strictObject({
    user: UserSchema,
    path: PubPathSchema,
    mode: z.enum(['replace', 'corrupt', 'remove']),
    text: z.string().optional(),
    base64: z.base64().optional(),
  })
  .refine((body) => (body.mode === 'replace') === (body.text !== undefined || body.base64 !== undefined), {
    message: 'replace needs the new bytes as text or base64; corrupt and remove take none',
  })
  .refine((body) => body.text === undefined || body.base64 === undefined, {
    message: 'give either text or base64, not both',
  });

/**
 * `POST /testnet/tamper` `{ user, path, mode, text | base64 }`: changes a stored file with no
 * feed event (see `Homeserver.tamperFile`); answers the file's metadata afterwards, or
 * `{ "removed": true }`. 404 when a file to corrupt or remove does not exist.
 */
async function tamper(ctx: AdminContext, req: IncomingMessage, res: ServerResponse) {
  const body = await readJson(req, TamperSchema);
  if (body.mode !== 'replace' && !ctx.homeserver.state.filesOf(body.user).get(body.path)) {
    throw new HttpError(404, `No file ${body.path} of ${body.user}`);
  }
  const change: FileTamper =
    body.mode === 'replace'
      ? {
          mode: 'replace',
          body:
            body.text !== undefined
              ? new TextEncoder().encode(body.text)
              : Buffer.from(body.base64 ?? '', 'base64'),
        }
      : { mode: body.mode };
  const meta = await ctx.homeserver.tamperFile(body.user, body.path, change);
  sendJson(
    res,
    200,
    meta === undefined
      ? { user: body.user, path: body.path, removed: true }
      : {
          user: body.user,
          path: body.path,
          size: meta.size,
          etag: `"${meta.hash}"`,
          contentType: meta.contentType,
        },
  );
}

/** `POST /testnet/mass-delete` `{ user, prefix?, fraction? }`: deletes for real, with DEL events. */
async function massDelete(ctx: AdminContext, req: IncomingMessage, res: ServerResponse) {
  const body = await readJson(
    req,
    z.strictObject({
      user: UserSchema,
      prefix: z.string().startsWith('/').optional(),
      fraction: z.number().min(0).max(1).optional(),
    }),
  );
  const deleted = await ctx.homeserver.massDelete(body.user, {
    prefix: body.prefix,
    fraction: body.fraction,
  });
  sendJson(res, 200, { deleted });
}

/**
 * `POST /testnet/events` `{ type, uri, owner?, contentHash? }`: a raw feed line that matches no
 * stored file (outside `/pub/`, with `..`, another user's, never stored). `owner` (whose
 * `/events-stream` carries it) defaults to the key in `uri`.
 */
async function injectEvent(ctx: AdminContext, req: IncomingMessage, res: ServerResponse) {
  const body = await readJson(
    req,
    z.strictObject({
      type: z.enum(['PUT', 'DEL']),
      uri: z.string().min(1),
      owner: UserSchema.optional(),
      contentHash: z.string().optional(),
    }),
  );
  let owner = body.owner;
  if (owner === undefined) {
    try {
      owner = parsePubky(body.uri).z32;
    } catch {
      throw new HttpError(400, 'Invalid body: owner: no key in uri; give owner');
    }
  }
  const event = ctx.homeserver.injectEvent({ ...body, owner });
  sendJson(res, 201, { cursor: event.id });
}
