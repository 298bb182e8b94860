import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBLAKE3 } from 'hash-wasm';
import type { HomeserverContext } from './context.js';
import type { Fault } from './faults.js';
import { HttpError, parseBool, parseUint, sendText } from './http.js';
import type { FileMeta } from './state.js';
import { compareUtf8 } from './webdav-path.js';

/** Writes need a session of the tenant with a `w` capability covering the path (`layers/authz.rs`). */
export function authorizeWrite(ctx: HomeserverContext, req: IncomingMessage, user: string, path: string) {
  const session = ctx.sessions.fromCookie(req.headers.cookie, user);
  if (!session) throw new HttpError(401, 'No session for this user');
  if (!session.capabilities.some((cap) => cap.write && path.startsWith(cap.scope))) {
    throw new HttpError(403, 'Session does not have write access to this path');
  }
  const record = ctx.state.users.get(user);
  if (!record) throw new HttpError(404, 'User not found');
  if (record.disabled) throw new HttpError(403, 'User is disabled');
}

/** `PUT /pub/…` → 201. The body is hashed while it streams in and stored only when complete. */
export async function writeFile(
  ctx: HomeserverContext,
  req: IncomingMessage,
  res: ServerResponse,
  user: string,
  path: string,
) {
  if (path.endsWith('/')) throw new HttpError(400, 'Cannot write to a directory path');
  authorizeWrite(ctx, req, user, path);
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  const { maxBodyBytes, quotaBytes } = ctx.limits;
  if (declared > maxBodyBytes) throw new HttpError(413, 'Payload Too Large');
  const files = ctx.state.filesOf(user);
  const available =
    quotaBytes === undefined
      ? Number.POSITIVE_INFINITY
      : quotaBytes - usedBytes(ctx, user) + (files.get(path)?.size ?? 0);
  if (declared > available) throw new HttpError(507, 'Insufficient Storage: quota exceeded');

  const hasher = await createBLAKE3();
  hasher.init();
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxBodyBytes) return done(new HttpError(413, 'Payload Too Large'));
      if (size > available) return done(new HttpError(507, 'Insufficient Storage: quota exceeded'));
      hasher.update(chunk);
      done(null, chunk);
    },
  });
  const body = req.pipe(meter);
  req.on('error', (error) => meter.destroy(error));
  await ctx.blobs.write(user, path, body);
  const meta: FileMeta = {
    size,
    hash: Buffer.from(hasher.digest('binary')).toString('base64'),
    contentType: req.headers['content-type'] ?? 'application/octet-stream',
    lastModifiedMs: Date.now(),
  };
  ctx.state.putFile(user, path, meta);
  res.writeHead(201).end();
}

function usedBytes(ctx: HomeserverContext, user: string): number {
  const files = ctx.state.filesOf(user);
  let total = 0;
  for (const path of files.withPrefix('/')) total += files.get(path)?.size ?? 0;
  return total;
}

/** `DELETE /pub/…` → 204, 404 when there is no such file. */
export async function deleteFile(
  ctx: HomeserverContext,
  req: IncomingMessage,
  res: ServerResponse,
  user: string,
  path: string,
) {
  authorizeWrite(ctx, req, user, path);
  if (!ctx.state.filesOf(user).get(path)) throw new HttpError(404, 'Not Found');
  await ctx.blobs.remove(user, path);
  ctx.state.deleteFile(user, path);
  res.writeHead(204).end();
}

/** `GET|HEAD /pub/…file`: ETag = quoted base64 BLAKE3; conditional requests → 304. */
export async function readFile(
  ctx: HomeserverContext,
  req: IncomingMessage,
  res: ServerResponse,
  user: string,
  path: string,
  faults: Fault[],
) {
  const meta = ctx.state.filesOf(user).get(path);
  if (!meta || faults.some((f) => f.kind === 'drop')) throw new HttpError(404, 'Not Found');
  const etag = `"${meta.hash}"`;
  const lastModified = new Date(meta.lastModifiedMs).toUTCString();
  const common = {
    ETag: etag,
    'Last-Modified': lastModified,
    Vary: 'pubky-host',
    'Cache-Control': 'private, must-revalidate',
  };
  if (notModified(req, etag, meta.lastModifiedMs)) {
    res.writeHead(304, common).end();
    return;
  }
  res.writeHead(200, { ...common, 'Content-Type': meta.contentType, 'Content-Length': meta.size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const truncate = faults.find((f) => f.kind === 'truncate');
  const tamper = faults.some((f) => f.kind === 'tamper');
  let sent = 0;
  const shaper = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let out = chunk;
      if (tamper) {
        out = Buffer.from(chunk);
        out[0] = (out[0] ?? 0) ^ 0xff;
      }
      if (truncate && sent + out.length >= truncate.afterBytes) {
        const head = out.subarray(0, truncate.afterBytes - sent);
        sent += head.length;
        // Flush what is allowed, then cut the connection mid-body.
        res.write(head, () => res.destroy());
        return done(new Error('truncated by fault injection'));
      }
      sent += out.length;
      done(null, out);
    },
  });
  await pipeline(ctx.blobs.read(user, path), shaper, res).catch(() => {
    if (!res.destroyed && !truncate) res.destroy();
  });
}

function notModified(req: IncomingMessage, etag: string, lastModifiedMs: number): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch
      .split(',')
      .map((tag) => tag.trim().replace(/^W\//, ''))
      .some((tag) => tag === '*' || tag === etag);
  }
  const ifModifiedSince = req.headers['if-modified-since'];
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && Math.floor(lastModifiedMs / 1000) * 1000 <= since;
  }
  return false;
}

/**
 * `GET /pub/dir/` listing: lines `pubky://<user><path>`, no trailing newline; `limit` (≤ 1000,
 * default 100), `cursor` (an entry, `pubky://` optional), `reverse`, `shallow` (children once,
 * directories with a trailing `/`). 404 when nothing is under the directory.
 */
export function listDirectory(
  ctx: HomeserverContext,
  res: ServerResponse,
  user: string,
  dir: string,
  url: URL,
) {
  const query = url.searchParams;
  const limit = Math.min(parseUint(query.get('limit'), 'limit', 65_535) ?? 100, 1000);
  const reverse = parseBool(query.get('reverse'), 'reverse') ?? false;
  const shallow = parseBool(query.get('shallow'), 'shallow') ?? false;
  const cursor = parseCursor(query.get('cursor'), user);

  const entries: string[] = [];
  let previous: string | undefined;
  for (const path of ctx.state.filesOf(user).withPrefix(dir)) {
    let entry = path;
    if (shallow) {
      const slash = path.indexOf('/', dir.length);
      if (slash !== -1) entry = path.slice(0, slash + 1);
    }
    if (entry !== previous) entries.push(entry);
    previous = entry;
  }
  if (entries.length === 0) throw new HttpError(404, 'Directory Not Found');
  if (reverse) entries.reverse();
  const start = cursor === undefined ? 0 : firstAfter(entries, cursor, reverse);
  const page = entries.slice(start, start + limit).map((entry) => `pubky://${user}${entry}`);
  sendText(res, 200, page.join('\n'));
}

function parseCursor(value: string | null, user: string): string | undefined {
  if (value === null || value === '') return undefined;
  const stripped = value.replace(/^pubky:\/\//, '');
  const path = stripped.startsWith(`${user}/`) ? stripped.slice(user.length) : stripped;
  if (!path.startsWith('/')) throw new HttpError(400, 'Invalid cursor');
  return path;
}

/** Index of the first entry strictly after `cursor` in listing order. */
function firstAfter(entries: string[], cursor: string, reverse: boolean): number {
  const index = entries.findIndex((entry) => {
    const order = compareUtf8(entry, cursor);
    return reverse ? order < 0 : order > 0;
  });
  return index === -1 ? entries.length : index;
}
