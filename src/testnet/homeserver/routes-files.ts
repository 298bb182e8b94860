import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newBlake3 } from '../../util/blake3.js';
import { detectContentType, SNIFF_BYTES } from './content-type.js';
import type { HomeserverContext } from './context.js';
import type { Fault } from './faults.js';
import { HttpError, lastParam, listLimit, parseBool, sendText } from './http.js';
import { keyOrUndefined } from './pubky-host.js';
import type { FileMeta } from './state.js';
import { requireUser } from './user-check.js';
import { compareUtf8, normalizeWebDavPath, PathError } from './webdav-path.js';

/**
 * `PUT /pub/…` → 201 (pubky-homeserver v0.6.0 `routes/tenants/write.rs`): 404/403 for an unknown
 * or disabled user, 507 over the quota, 413 over the body limit. The body is hashed while it
 * streams in and stored only when complete; its Content-Type is detected, not taken from the
 * request. A directory path (ending with `/`) fails in the homeserver's storage layer: 500.
 */
export async function writeFile(
  ctx: HomeserverContext,
  req: IncomingMessage,
  res: ServerResponse,
  user: string,
  path: string,
) {
  requireUser(ctx, user, true);
  if (path.endsWith('/')) throw new HttpError(500, 'Internal server error');
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  const { maxBodyBytes, quotaBytes } = ctx.limits;
  if (declared > maxBodyBytes) throw new HttpError(413, 'Payload Too Large');
  const files = ctx.state.filesOf(user);
  const available =
    quotaBytes === undefined
      ? Number.POSITIVE_INFINITY
      : quotaBytes - usedBytes(ctx, user) + (files.get(path)?.size ?? 0);
  if (declared > available) {
    const mb = ((quotaBytes ?? 0) / 1024 / 1024).toFixed(1);
    throw new HttpError(507, `Disk space quota of ${mb} MB exceeded. Write operation failed.`);
  }

  const hasher = await newBlake3();
  let size = 0;
  const head: Buffer[] = [];
  let headBytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxBodyBytes) return done(new HttpError(413, 'Payload Too Large'));
      if (size > available) return done(new HttpError(507, 'Disk space quota exceeded'));
      if (headBytes < SNIFF_BYTES) {
        head.push(chunk.subarray(0, SNIFF_BYTES - headBytes));
        headBytes += Math.min(chunk.length, SNIFF_BYTES - headBytes);
      }
      hasher.update(chunk);
      done(null, chunk);
    },
  });
  const body = req.pipe(meter);
  req.on('error', (error) => meter.destroy(error));
  await ctx.blobs.write(user, path, body);
  const meta: FileMeta = {
    size,
    hash: hasher.digest(),
    contentType: await detectContentType(Buffer.concat(head), path),
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

/**
 * `DELETE /pub/…` → 204; 404 "Not Found" for an unknown user or a missing file. A disabled user
 * may still delete.
 */
export async function deleteFile(ctx: HomeserverContext, res: ServerResponse, user: string, path: string) {
  requireUser(ctx, user, false);
  if (!ctx.state.filesOf(user).get(path)) throw new HttpError(404, 'Not Found');
  await ctx.blobs.remove(user, path);
  ctx.state.deleteFile(user, path);
  res.writeHead(204).end();
}

/**
 * `HEAD /pub/…`: the file's headers, never 304 (conditional headers are not read); 404
 * "Not Found" for an unknown user, a missing file, or a directory path (even one with files).
 */
export function headFile(ctx: HomeserverContext, res: ServerResponse, user: string, path: string) {
  requireUser(ctx, user, false);
  const meta = ctx.state.filesOf(user).get(path);
  if (!meta) throw new HttpError(404, 'Not Found');
  res.writeHead(200, { ...fileHeaders(meta), 'Content-Type': meta.contentType, 'Content-Length': meta.size });
  res.end();
}

/**
 * `GET /pub/…file`: ETag = quoted base64 BLAKE3. `If-None-Match` (a comma list compared as is:
 * no weak `W/` form, no `*`) takes precedence over `If-Modified-Since` (whole seconds); a match
 * is 304. No user check: a missing file is 404 "Not Found" whoever asks.
 */
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
  if (notModified(req, meta)) {
    res.writeHead(304, fileHeaders(meta)).end();
    return;
  }
  res.writeHead(200, { ...fileHeaders(meta), 'Content-Type': meta.contentType, 'Content-Length': meta.size });
  const shaping = faults.some((f) => f.kind === 'truncate' || f.kind === 'tamper');
  if (!shaping) {
    // The common case, kept cheap so a benchmark measures the client: small bodies in one write,
    // larger ones streamed from disk without a transform in between.
    const whole = meta.size <= WHOLE_BODY_BYTES ? ctx.blobs.readWhole(user, path, meta.size) : undefined;
    if (whole) res.end(whole);
    else
      await pipeline(ctx.blobs.read(user, path), res).catch(() => {
        if (!res.destroyed) res.destroy();
      });
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

/** Bodies up to this size are read whole and sent in one write. */
const WHOLE_BODY_BYTES = 1024 * 1024;

function fileHeaders(meta: FileMeta): Record<string, string> {
  return {
    ETag: `"${meta.hash}"`,
    'Last-Modified': new Date(meta.lastModifiedMs).toUTCString(),
    Vary: 'pubky-host',
    'Cache-Control': 'private, must-revalidate',
  };
}

function notModified(req: IncomingMessage, meta: FileMeta): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const etag = `"${meta.hash}"`;
    return ifNoneMatch.split(',').some((tag) => tag.trim() === etag);
  }
  const ifModifiedSince = req.headers['if-modified-since'];
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && Math.floor(meta.lastModifiedMs / 1000) * 1000 <= since;
}

/**
 * `GET /pub/dir/` listing (`read.rs` `list`): lines `pubky://<user><path>`, no trailing newline,
 * `text/plain`. Order of checks as upstream: the booleans `reverse`/`shallow` (400
 * "Invalid boolean parameter"), 404 "Directory Not Found" when nothing is under the directory,
 * then the cursor: `[pubky://]<z32>/<path>` (any key; only its path counts; 400
 * "Invalid cursor"). `limit`: default 100, max 1000, 0 = empty, junk ignored. Shallow lists
 * each child once, sub-directories with a trailing `/`.
 */
export function listDirectory(
  ctx: HomeserverContext,
  res: ServerResponse,
  user: string,
  dir: string,
  url: URL,
) {
  const query = url.searchParams;
  const reverse = parseBool(lastParam(query, 'reverse')) ?? false;
  const shallow = parseBool(lastParam(query, 'shallow')) ?? false;
  const limit = listLimit(lastParam(query, 'limit'));

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
  const cursor = parseListCursor(lastParam(query, 'cursor'));
  if (reverse) entries.reverse();
  const start = cursor === undefined ? 0 : firstAfter(entries, cursor, reverse);
  const page = entries.slice(start, start + limit).map((entry) => `pubky://${user}${entry}`);
  sendText(res, 200, page.join('\n'), { 'Content-Type': 'text/plain' });
}

/** `parse_cursor`: `pubky://` stripped, then `EntryPath`: `<z32>/<webdav path>`; empty = none. */
function parseListCursor(value: string | null): string | undefined {
  if (value === null || value === '') return undefined;
  const entry = value.startsWith('pubky://') ? value.slice('pubky://'.length) : value;
  const slash = entry.indexOf('/');
  if (slash === -1 || keyOrUndefined(entry.slice(0, slash)) === undefined) {
    throw new HttpError(400, 'Invalid cursor');
  }
  try {
    return normalizeWebDavPath(entry.slice(slash));
  } catch (error) {
    if (error instanceof PathError) throw new HttpError(400, 'Invalid cursor');
    throw error;
  }
}

/** Index of the first entry strictly after `cursor` in listing order. */
function firstAfter(entries: string[], cursor: string, reverse: boolean): number {
  const index = entries.findIndex((entry) => {
    const order = compareUtf8(entry, cursor);
    return reverse ? order < 0 : order > 0;
  });
  return index === -1 ? entries.length : index;
}
