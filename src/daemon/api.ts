import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { type BackupService, requireAddedKey } from '../app/index.js';
import { BackupError, httpStatusOf, toBackupError } from '../errors.js';
import { parsePubky } from '../identity/index.js';
import { loadUserKeypair } from '../restore/index.js';
import { checkSnapshot, listSnapshots, snapshotTime } from '../snapshot/index.js';
import { readActivity } from '../store/index.js';
import {
  ActivityQuery,
  AddedKeySchema,
  AddKeyBody,
  BackupLocationSchema,
  CheckBody,
  CheckKeyBody,
  ConfigPatchBody,
  ErrorSchema,
  EventSchema,
  EventsQuery,
  ExitBody,
  KeySummarySchema,
  MoveBackupBody,
  OkSchema,
  PubkyParam,
  RemoveQuery,
  RestoreVersionBody,
  ResumeBody,
  SnapshotNameParam,
  SnapshotSchema,
  StatusSchema,
  SyncResultsSchema,
  VerifyBody,
  VersionSchema,
  VersionsQuery,
} from './schemas.js';
import { loopbackOnly, tokenRequired } from './security.js';
import { type DashboardSessions, mountDashboard } from './web.js';

export interface ApiOptions {
  service: BackupService;
  port: number;
  token: string;
  startedAt: string;
  version: string;
  /** Dashboard sessions (login cookie), checked beside the bearer token; the dashboard is served when given. */
  sessions?: DashboardSessions;
  /** Called by `POST /api/v1/daemon/stop`. */
  onStop: () => void;
  /** Keep-alive comment interval of the event stream (ms). */
  keepAliveMs?: number;
}

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
const errors = {
  400: { description: 'bad request', ...json(ErrorSchema) },
  401: { description: 'no or wrong API token', ...json(ErrorSchema) },
  403: { description: 'foreign Host or Origin', ...json(ErrorSchema) },
  404: { description: 'not found', ...json(ErrorSchema) },
  409: { description: 'conflicts with the current state', ...json(ErrorSchema) },
  503: { description: 'homeserver, PKDNS or disk unavailable', ...json(ErrorSchema) },
};

/**
 * The control API (`/api/v1`) on hono: every route calls the `BackupService`, every failure is a
 * `BackupError` answered with its HTTP status and `{error: {code, message, details}}`. Only
 * loopback Host/Origin; a bearer token (or the dashboard's session cookie) on every route but the
 * OpenAPI document.
 */
export function createApi(options: ApiOptions): OpenAPIHono {
  const { service } = options;
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        return c.json(
          {
            error: {
              code: 'INVALID_REQUEST',
              message: `${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}`,
              details: {},
            },
          },
          400,
        );
      }
    },
  });
  app.use('*', loopbackOnly(options.port));
  if (options.sessions) mountDashboard(app, options.sessions);
  app.use('/api/v1/*', async (c, next) => {
    if (c.req.path === '/api/v1/openapi.json') return next();
    return tokenRequired(options.token, options.sessions)(c, next);
  });
  app.onError((error, c) => {
    const failure = toBackupError(error);
    return c.json({ error: failure.toJSON() }, httpStatusOf(failure.category) as 400);
  });
  app.notFound((c) =>
    c.json(
      {
        error: {
          code: 'NO_SUCH_ROUTE',
          message: `${c.req.method} ${c.req.path} is not an API route.`,
          details: {},
        },
      },
      404,
    ),
  );

  const daemon = () => ({
    pid: process.pid,
    version: options.version,
    startedAt: options.startedAt,
    dataDir: service.dataDir,
    port: options.port,
    lastEventId: service.events.lastId,
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/status',
      summary: 'The daemon and every pubky: state, files, bytes, cursor, homeserver, last run, errors',
      responses: { 200: { description: 'status', ...json(StatusSchema) }, ...errors },
    }),
    async (c) => c.json({ daemon: daemon(), keys: await service.list() } as never, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/keys',
      summary: 'The backed-up pubkys',
      responses: {
        200: { description: 'keys', ...json(z.object({ keys: z.array(KeySummarySchema) })) },
        ...errors,
      },
    }),
    async (c) => c.json({ keys: await service.list() } as never, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys',
      summary: 'Add a pubky (validated; its homeserver found through PKDNS or pinned); it syncs at once',
      request: { body: { required: true, content: { 'application/json': { schema: AddKeyBody } } } },
      responses: { 201: { description: 'added', ...json(z.object({ key: AddedKeySchema })) }, ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const key = await service.add(body.pubky, { homeserver: body.homeserver });
      return c.json({ key }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/keys/{pubky}',
      summary: 'One pubky with its recent activity',
      request: { params: PubkyParam },
      responses: { 200: { description: 'key', ...json(z.object({ key: KeySummarySchema })) }, ...errors },
    }),
    async (c) => c.json({ key: await service.status(c.req.valid('param').pubky, 20) } as never, 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/keys/{pubky}',
      summary: 'Stop backing up a pubky; its folder is kept unless deleteData=true',
      request: { params: PubkyParam, query: RemoveQuery },
      responses: { 200: { description: 'removed', ...json(OkSchema) }, ...errors },
    }),
    async (c) => {
      const removed = await service.remove(c.req.valid('param').pubky, {
        deleteData: c.req.valid('query').deleteData === 'true',
      });
      return c.json(removed, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/sync',
      summary: 'Force sync: catch every pubky up now; answers when done',
      responses: { 200: { description: 'one report per pubky', ...json(SyncResultsSchema) }, ...errors },
    }),
    async (c) => c.json({ results: outcomes(await service.syncNow()) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys/{pubky}/sync',
      summary: 'Force sync one pubky; answers when done',
      request: { params: PubkyParam },
      responses: { 200: { description: 'its report', ...json(SyncResultsSchema) }, ...errors },
    }),
    async (c) => c.json({ results: outcomes(await service.syncNow([c.req.valid('param').pubky])) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys/{pubky}/pause',
      summary: 'Pause a pubky (a catch-up in progress stops, keeping its work)',
      request: { params: PubkyParam },
      responses: { 200: { description: 'paused', ...json(OkSchema) }, ...errors },
    }),
    async (c) => c.json(await service.pause(c.req.valid('param').pubky), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys/{pubky}/resume',
      summary: 'Resume a paused pubky (a mass-delete pause needs acceptDeletes)',
      request: {
        params: PubkyParam,
        body: { required: false, content: { 'application/json': { schema: ResumeBody } } },
      },
      responses: { 200: { description: 'resumed', ...json(OkSchema) }, ...errors },
    }),
    async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as { acceptDeletes?: boolean };
      return c.json(
        await service.resume(c.req.valid('param').pubky, { acceptDeletes: body.acceptDeletes === true }),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/keys/{pubky}/activity',
      summary: "A pubky's activity log, newest last",
      request: { params: PubkyParam, query: ActivityQuery },
      responses: {
        200: {
          description: 'activity',
          ...json(z.object({ activity: z.array(z.record(z.string(), z.unknown())) })),
        },
        ...errors,
      },
    }),
    async (c) => {
      const layout = requireAddedKey(service.dataDir, c.req.valid('param').pubky);
      const activity = await readActivity(layout.activityLog, { last: c.req.valid('query').last ?? 100 });
      return c.json({ activity } as never, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/keys/{pubky}/snapshots',
      summary: "A pubky's snapshots, oldest first",
      request: { params: PubkyParam },
      responses: {
        200: { description: 'snapshots', ...json(z.object({ snapshots: z.array(SnapshotSchema) })) },
        ...errors,
      },
    }),
    async (c) => {
      const layout = requireAddedKey(service.dataDir, c.req.valid('param').pubky);
      const snapshots = (await listSnapshots(layout)).map((s) => ({
        ...s,
        createdAt: s.createdAt.toISOString(),
      }));
      return c.json({ snapshots }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys/{pubky}/snapshots',
      summary: 'Create a snapshot of a pubky now',
      request: { params: PubkyParam },
      responses: {
        201: { description: 'created', ...json(z.object({ snapshot: z.record(z.string(), z.unknown()) })) },
        ...errors,
      },
    }),
    async (c) => {
      const [snapshot] = await service.createSnapshots([c.req.valid('param').pubky]);
      return c.json({ snapshot: snapshot as unknown as Record<string, unknown> }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/keys/{pubky}/snapshots/{name}',
      summary: 'Download a snapshot (application/zip)',
      request: { params: SnapshotNameParam },
      responses: {
        200: { description: 'the ZIP archive', content: { 'application/zip': { schema: z.string() } } },
        ...errors,
      },
    }),
    async (c) => {
      const { pubky, name } = c.req.valid('param');
      const layout = requireAddedKey(service.dataDir, pubky);
      if (!snapshotTime(name))
        throw new BackupError('NO_SUCH_SNAPSHOT', `${name} is not a snapshot name.`, 'not-found');
      const file = join(layout.snapshotsDir, name);
      if (!(await listSnapshots(layout)).some((s) => s.name === name)) {
        throw new BackupError('NO_SUCH_SNAPSHOT', `${layout.z32} has no snapshot ${name}.`, 'not-found');
      }
      const body = Readable.toWeb(createReadStream(file)) as ReadableStream;
      return new Response(body, {
        headers: {
          'content-type': 'application/zip',
          'content-disposition': `attachment; filename="${name}"`,
        },
      }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys/{pubky}/check',
      summary: "Check a pubky's backup against itself (repair: fetch damaged files again)",
      request: {
        params: PubkyParam,
        body: { required: false, content: { 'application/json': { schema: CheckBody } } },
      },
      responses: {
        200: { description: 'report', ...json(z.object({ report: z.record(z.string(), z.unknown()) })) },
        ...errors,
      },
    }),
    async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as { readData?: boolean; repair?: boolean };
      const [report] = await service.check([c.req.valid('param').pubky], body);
      return c.json({ report: report as unknown as Record<string, unknown> }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/config',
      summary: 'The effective settings',
      responses: {
        200: { description: 'config', ...json(z.object({ config: z.record(z.string(), z.unknown()) })) },
        ...errors,
      },
    }),
    (c) => c.json({ config: service.settings as unknown as Record<string, unknown> }, 200),
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/config',
      summary: 'Change one setting (validated like config.json)',
      request: { body: { required: true, content: { 'application/json': { schema: ConfigPatchBody } } } },
      responses: {
        200: {
          description: 'the new settings',
          ...json(z.object({ config: z.record(z.string(), z.unknown()) })),
        },
        ...errors,
      },
    }),
    async (c) => {
      const { field, value } = c.req.valid('json');
      return c.json(
        { config: (await service.setConfig(field, value)) as unknown as Record<string, unknown> },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/events',
      summary: 'The event stream (SSE): every event after `since` (or Last-Event-ID), then live',
      description: `Each message has \`id\` (rising), \`event\` (the type) and \`data\` (JSON of the Event). Types: see the Event schema.`,
      request: { query: EventsQuery },
      responses: {
        200: {
          description: 'text/event-stream of Event',
          content: { 'text/event-stream': { schema: EventSchema } },
        },
        ...errors,
      },
    }),
    (c) => eventStream(c, options, c.req.valid('query').since) as never,
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/check-key',
      summary: 'Validate a pasted pubky with the same parser and messages as `check-key`',
      request: { body: { required: true, content: { 'application/json': { schema: CheckKeyBody } } } },
      responses: {
        200: {
          description: 'the canonical pubky',
          ...json(z.object({ pubky: z.string(), display: z.string() })),
        },
        ...errors,
      },
    }),
    (c) => {
      const key = parsePubky(c.req.valid('json').text);
      return c.json({ pubky: key.z32, display: key.toDisplay() }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/keys/{pubky}/versions',
      summary: "Previous versions of a pubky's files (or of one path), oldest first",
      request: { params: PubkyParam, query: VersionsQuery },
      responses: {
        200: { description: 'versions', ...json(z.object({ versions: z.array(VersionSchema) })) },
        ...errors,
      },
    }),
    async (c) => {
      const versions = await service.versions(c.req.valid('param').pubky, c.req.valid('query').path);
      return c.json(
        { versions: versions.map((v) => ({ ...v, versionedAt: v.versionedAt.toISOString() })) },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys/{pubky}/versions/restore',
      summary: 'Put a previous version back into the backup (the current copy becomes a version)',
      request: {
        params: PubkyParam,
        body: { required: true, content: { 'application/json': { schema: RestoreVersionBody } } },
      },
      responses: { 200: { description: 'restored', ...json(OkSchema) }, ...errors },
    }),
    async (c) => {
      const { path, at } = c.req.valid('json');
      const restored = await service.restoreVersion(c.req.valid('param').pubky, path, {
        at: at ? new Date(at) : undefined,
      });
      return c.json(
        {
          ...restored,
          version: { ...restored.version, versionedAt: restored.version.versionedAt.toISOString() },
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys/{pubky}/snapshots/{name}/check',
      summary: 'Verify every entry of a snapshot against its manifest',
      request: { params: SnapshotNameParam },
      responses: {
        200: { description: 'report', ...json(z.object({ report: z.record(z.string(), z.unknown()) })) },
        ...errors,
      },
    }),
    async (c) => {
      const { pubky, name } = c.req.valid('param');
      const report = await checkSnapshot(await snapshotFile(service, pubky, name));
      return c.json({ report: report as unknown as Record<string, unknown> }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/backup-location',
      summary: 'Where the key folders are',
      responses: {
        200: { description: 'the location', ...json(z.object({ location: BackupLocationSchema })) },
        ...errors,
      },
    }),
    async (c) => c.json({ location: await service.backupLocation() }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/backup-location',
      summary: 'Move the backup to an empty or new folder (progress: MoveProgress events); answers when done',
      request: { body: { required: true, content: { 'application/json': { schema: MoveBackupBody } } } },
      responses: {
        200: { description: 'moved', ...json(z.object({ moved: z.record(z.string(), z.unknown()) })) },
        ...errors,
      },
    }),
    async (c) => {
      const moved = await service.moveBackup(c.req.valid('json').path);
      return c.json({ moved: { ...moved } }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/login-link',
      summary: 'A one-time link that logs a browser into the dashboard (HttpOnly, SameSite=Strict cookie)',
      responses: {
        200: { description: 'the link, valid once within 2 minutes', ...json(z.object({ url: z.string() })) },
        ...errors,
      },
    }),
    (c) => {
      if (!options.sessions)
        throw new BackupError('NO_DASHBOARD', 'This daemon serves no dashboard.', 'not-found');
      return c.json(
        { url: `http://127.0.0.1:${options.port}/login?code=${options.sessions.newLoginCode()}` },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys/{pubky}/verify',
      summary: 'Compare the backup with what the homeserver serves now; the report is kept',
      request: {
        params: PubkyParam,
        body: { required: false, content: { 'application/json': { schema: VerifyBody } } },
      },
      responses: {
        200: { description: 'report', ...json(z.object({ report: z.record(z.string(), z.unknown()) })) },
        ...errors,
      },
    }),
    async (c) => {
      const parsed = VerifyBody.safeParse(await c.req.json().catch(() => ({})));
      if (!parsed.success)
        throw new BackupError('BAD_REQUEST', 'The body must be {"readData": true | false}.', 'usage');
      const body = parsed.data;
      const report = await service.verify(c.req.valid('param').pubky, { readData: body.readData });
      return c.json({ report: plain(report) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys/{pubky}/restore',
      summary:
        "Upload the backup (mirror, snapshot or folder) into the pubky's account on a homeserver; dryRun: the plan",
      request: {
        params: PubkyParam,
        body: { required: true, content: { 'application/json': { schema: ExitBody } } },
      },
      responses: {
        200: { description: 'summary', ...json(z.object({ result: z.record(z.string(), z.unknown()) })) },
        ...errors,
      },
    }),
    async (c) => {
      const pubky = parsePubky(c.req.valid('param').pubky).z32;
      const body = c.req.valid('json');
      const result = await service.restore(pubky, await exitOptions(pubky, body));
      return c.json({ result: plain(result) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/keys/{pubky}/migrate',
      summary:
        'Move the pubky to another homeserver: sign up, restore, publish _pubky, follow it, verify; dryRun: the plan',
      request: {
        params: PubkyParam,
        body: { required: true, content: { 'application/json': { schema: ExitBody } } },
      },
      responses: {
        200: { description: 'result', ...json(z.object({ result: z.record(z.string(), z.unknown()) })) },
        ...errors,
      },
    }),
    async (c) => {
      const pubky = parsePubky(c.req.valid('param').pubky).z32;
      const body = c.req.valid('json');
      const result = await service.migrate(pubky, await exitOptions(pubky, body));
      return c.json({ result: plain(result) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/daemon/stop',
      summary: 'Stop the daemon (it finishes writing, then exits)',
      responses: { 202: { description: 'stopping', ...json(OkSchema) }, ...errors },
    }),
    (c) => {
      setImmediate(options.onStop);
      return c.json({ stopping: true }, 202);
    },
  );

  app.doc31('/api/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Pubky Backup control API',
      version: options.version,
      description:
        'The local control API of the Pubky Backup daemon: 127.0.0.1 only, `Authorization: Bearer <token>` (the token is in `<data dir>/daemon.json`).',
    },
  });
  return app;
}

/** The file of a key's snapshot by name; `NO_SUCH_SNAPSHOT` for anything else (no path tricks). */
async function snapshotFile(service: BackupService, pubky: string, name: string): Promise<string> {
  const layout = requireAddedKey(service.dataDir, pubky);
  if (!snapshotTime(name) || !(await listSnapshots(layout)).some((s) => s.name === name)) {
    throw new BackupError(
      'NO_SUCH_SNAPSHOT',
      `${layout.z32} has no snapshot ${JSON.stringify(name)}.`,
      'not-found',
    );
  }
  return join(layout.snapshotsDir, name);
}

/**
 * The choices of a restore or migrate from the API body; the user's key (a recovery file in
 * base64 with its passphrase, or the secret key as text) is read into a keypair here and never
 * stored. A dry run needs no key.
 */
async function exitOptions(pubky: string, body: z.infer<typeof ExitBody>) {
  const hasKey = body.recoveryFile !== undefined || body.secretKey !== undefined;
  const keypair =
    body.dryRun && !hasKey
      ? undefined
      : await loadUserKeypair(pubky, {
          recoveryFile:
            body.recoveryFile === undefined ? undefined : Buffer.from(body.recoveryFile, 'base64'),
          secretKeyFile: body.secretKey === undefined ? undefined : Buffer.from(body.secretKey, 'utf8'),
          passphrase: async () => body.passphrase ?? '',
        });
  let at: Date | undefined;
  if (body.at !== undefined) {
    at = new Date(body.at);
    if (Number.isNaN(at.getTime()))
      throw new BackupError('BAD_REQUEST', `"at" is not a time: ${JSON.stringify(body.at)}.`, 'usage');
  }
  return {
    to: body.to,
    from: body.from,
    at,
    keypair,
    signupToken: body.signupToken,
    dryRun: body.dryRun,
    concurrency: body.concurrency,
    deleteExtra: body.deleteExtra,
    homeserverKey: body.homeserverKey,
  };
}

/** A result as plain JSON (dates as ISO text), for a `record` response. */
function plain(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

/** Run outcomes as plain JSON: reports, or `{pubky, error: {code, message, details}}`. */
function outcomes(results: Awaited<ReturnType<BackupService['syncNow']>>): Array<Record<string, unknown>> {
  return results.map((r) => ('error' in r ? { pubky: r.pubky, error: r.error.toJSON() } : { ...r }));
}

function eventStream(c: Context, options: ApiOptions, since: number | undefined) {
  const lastEventId = Number(c.req.header('last-event-id'));
  const from = since ?? (Number.isInteger(lastEventId) && lastEventId >= 0 ? lastEventId : 0);
  return streamSSE(c, async (stream) => {
    const queue: Array<{ id: number; type: string; data: unknown }> = [];
    let wake: (() => void) | undefined;
    const unsubscribe = options.service.events.subscribe((event) => {
      queue.push(event);
      wake?.();
    });
    stream.onAbort(() => {
      unsubscribe();
      wake?.();
    });
    let last = from;
    for (const event of options.service.events.since(from)) {
      await stream.writeSSE({ id: String(event.id), event: event.type, data: JSON.stringify(event) });
      last = event.id;
    }
    const keepAlive = setInterval(() => {
      void stream.write(': keep-alive\n\n');
    }, options.keepAliveMs ?? 15_000);
    try {
      while (!stream.aborted) {
        if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        for (const event of queue.splice(0)) {
          if (event.id <= last) continue;
          await stream.writeSSE({ id: String(event.id), event: event.type, data: JSON.stringify(event) });
          last = event.id;
        }
      }
    } finally {
      clearInterval(keepAlive);
      unsubscribe();
    }
  });
}
