import { z } from '@hono/zod-openapi';
import { EVENT_TYPES } from '../app/index.js';

/**
 * The control API's request and response shapes (zod): requests are validated with them and the
 * OpenAPI document (`/api/v1/openapi.json`) is generated from the same schemas.
 */

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'KEY_NOT_ADDED' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .openapi('Error');

export const PubkyParam = z.object({
  pubky: z
    .string()
    .openapi({ param: { name: 'pubky', in: 'path' }, description: 'a pubky in any pasted form' }),
});

export const SyncStatusSchema = z
  .object({
    state: z.enum(['starting', 'syncing', 'idle', 'paused', 'waiting', 'error']),
  })
  .passthrough()
  .openapi('SyncStatus', {
    description:
      'What a key is doing now (extra fields by state: done/total, lastSync, reason, code/message).',
  });

export const KeySummarySchema = z
  .object({
    pubky: z.string(),
    active: z.boolean(),
    folder: z.string(),
    homeserver: z.string().nullable(),
    pinned: z.boolean(),
    cursor: z.string(),
    files: z.number().int(),
    bytes: z.number().int(),
    pendingRetries: z.array(
      z.object({ path: z.string(), attempts: z.number().int(), lastError: z.string() }),
    ),
    paused: z
      .object({
        reason: z.enum(['user', 'mass-delete']),
        deletes: z.number().int(),
        files: z.number().int(),
        since: z.string().nullable(),
      })
      .nullable(),
    lastRun: z.record(z.string(), z.unknown()).nullable(),
    recentActivity: z.array(z.record(z.string(), z.unknown())),
    lastVerify: z.record(z.string(), z.unknown()).nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    live: SyncStatusSchema.nullable(),
  })
  .openapi('KeySummary');

export const DaemonSchema = z
  .object({
    pid: z.number().int(),
    version: z.string(),
    startedAt: z.string(),
    dataDir: z.string(),
    port: z.number().int(),
    lastEventId: z.number().int().openapi({ description: 'the newest event id: follow /events from here' }),
  })
  .openapi('Daemon');

export const StatusSchema = z
  .object({ daemon: DaemonSchema, keys: z.array(KeySummarySchema) })
  .openapi('Status');

export const AddKeyBody = z
  .object({
    pubky: z.string().min(1).openapi({ example: 'pk:8pinxxgqs41n4aididenw5apqp1urfmzdztr8jt4abrkdn435ewo' }),
    homeserver: z
      .string()
      .optional()
      .openapi({ description: 'an http(s) address or a homeserver pubky (pins it)' }),
  })
  .openapi('AddKey');

export const AddedKeySchema = z
  .object({
    pubky: z.string(),
    homeserver: z.string(),
    source: z.string(),
    folder: z.string(),
    knownToHomeserver: z.boolean(),
    droppedFromUrl: z.string().optional(),
  })
  .openapi('AddedKey');

export const RemoveQuery = z.object({
  deleteData: z
    .enum(['true', 'false'])
    .optional()
    .openapi({
      param: { name: 'deleteData', in: 'query' },
      description: 'also delete the backup folder for good',
    }),
});

export const ResumeBody = z.object({ acceptDeletes: z.boolean().optional() }).openapi('Resume');

export const SyncResultsSchema = z
  .object({ results: z.array(z.record(z.string(), z.unknown())) })
  .openapi('SyncResults', { description: 'One run report per pubky, or `{pubky, error}`.' });

export const ActivityQuery = z.object({
  last: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .openapi({ param: { name: 'last', in: 'query' } }),
});

export const SnapshotSchema = z
  .object({
    pubky: z.string(),
    name: z.string(),
    file: z.string(),
    createdAt: z.string(),
    size: z.number().int(),
  })
  .openapi('Snapshot');

export const SnapshotNameParam = PubkyParam.extend({
  name: z.string().openapi({ param: { name: 'name', in: 'path' }, example: '2026-01-01_00-00-00.000.zip' }),
});

export const CheckBody = z
  .object({ readData: z.boolean().optional(), repair: z.boolean().optional() })
  .openapi('Check');

export const ConfigPatchBody = z
  .object({
    field: z.string().openapi({ example: 'syncIntervalSeconds' }),
    value: z.unknown().openapi({ example: 60 }),
  })
  .openapi('ConfigChange');

export const EventsQuery = z.object({
  since: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .openapi({
      param: { name: 'since', in: 'query' },
      description: 'the last event id already seen (0: all kept)',
    }),
});

export const EventSchema = z
  .object({
    id: z.number().int(),
    type: z.enum(EVENT_TYPES),
    time: z.string(),
    data: z.record(z.string(), z.unknown()),
  })
  .openapi('Event');

export const OkSchema = z.object({}).passthrough().openapi('Result');

export const CheckKeyBody = z
  .object({ text: z.string().openapi({ example: 'https://pubky.app/profile/…' }) })
  .openapi('CheckKey');

export const VersionsQuery = z.object({
  path: z
    .string()
    .optional()
    .openapi({ param: { name: 'path', in: 'query' }, example: '/pub/pubky.app/profile.json' }),
});

export const VersionSchema = z
  .object({ path: z.string(), storePath: z.string(), versionedAt: z.string(), size: z.number().int() })
  .openapi('Version');

export const RestoreVersionBody = z
  .object({
    path: z.string().startsWith('/pub/'),
    at: z
      .string()
      .optional()
      .openapi({ description: 'ISO 8601: the version current at that time (default: the newest)' }),
  })
  .openapi('RestoreVersion');

export const MoveBackupBody = z
  .object({
    path: z
      .string()
      .refine((p) => p.startsWith('/'), 'an absolute path (starting with /)')
      .openapi({ example: '/mnt/usb/pubky-backup' }),
  })
  .openapi('MoveBackup');

export const BackupLocationSchema = z
  .object({
    path: z.string().openapi({ description: 'the real folder holding the key folders' }),
    moved: z.boolean().openapi({ description: 'false while it is the default, <data dir>/keys' }),
  })
  .openapi('BackupLocation');

export const VerifyBody = z
  .object({
    readData: z
      .boolean()
      .optional()
      .openapi({ description: 'download every file and compare BLAKE3 instead of trusting ETags' }),
  })
  .openapi('Verify');

/** The body of `restore` and `migrate`: the CLI's flags, the key as bytes (never stored). */
export const ExitBody = z
  .object({
    to: z
      .string()
      .min(1)
      .openapi({ description: 'the target homeserver: its pubky (found through PKDNS) or its http(s) URL' }),
    from: z
      .string()
      .optional()
      .openapi({ description: 'mirror (default), snapshot, a snapshot .zip path or a folder path' }),
    at: z.string().optional().openapi({ description: 'ISO 8601: the snapshot current at that time' }),
    dryRun: z.boolean().optional().openapi({ description: 'only the plan; nothing is written anywhere' }),
    recoveryFile: z
      .string()
      .optional()
      .openapi({ description: "the user's recovery file, base64; needs `passphrase`" }),
    passphrase: z.string().optional(),
    secretKey: z
      .string()
      .optional()
      .openapi({ description: 'the 32-byte secret key as 64 hex, 52 z-base-32 or base64 characters' }),
    signupToken: z.string().optional(),
    concurrency: z.number().int().min(1).max(64).optional(),
    deleteExtra: z
      .boolean()
      .optional()
      .openapi({ description: 'restore only: delete files on the homeserver the backup does not have' }),
    homeserverKey: z
      .string()
      .optional()
      .openapi({ description: "migrate only: the new homeserver's pubky when `to` is a URL" }),
  })
  .openapi('Exit');
