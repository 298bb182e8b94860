import { z } from 'zod';

/** `config.json` in the data dir. Unknown fields are rejected so a typo never goes unnoticed. */
export const ConfigSchema = z.strictObject({
  version: z.literal(1).default(1),
  /** Seconds between polls of the events feed when no live stream is available. */
  syncIntervalSeconds: z.number().int().min(10).max(86_400).default(30),
  /** Parallel downloads per homeserver. */
  downloadConcurrency: z.number().int().min(1).max(64).default(8),
  /** A homeserver that sends nothing for this long (no answer, or a stalled body) is given up on and retried. */
  requestTimeoutSeconds: z.number().int().min(1).max(600).default(30),
  /** pkarr relays used for PKDNS; empty means the built-in public relays. */
  relays: z.array(z.url({ protocol: /^https?$/ })).default([]),
  /** Scheduled snapshots, made by the running `sync` process. */
  snapshots: z
    .strictObject({
      every: z.enum(['off', 'hourly', 'daily', 'weekly']).default('off'),
      /** Retention applied after each scheduled snapshot (restic `forget` rules); unset = keep all. */
      keepLast: z.number().int().min(1).optional(),
      keepDaily: z.number().int().min(1).optional(),
      keepWeekly: z.number().int().min(1).optional(),
      keepMonthly: z.number().int().min(1).optional(),
    })
    .default({ every: 'off' }),
  /** Previous versions of overwritten and deleted files (`versions/`). */
  versions: z
    .strictObject({
      /** Days a previous version is kept, applied daily by the running sync and by `versions prune`; 0 = forever. */
      keepDays: z.number().int().min(0).max(36_500).default(365),
    })
    .default({ keepDays: 365 }),
  daemon: z
    .strictObject({
      /** Port of the local control API and dashboard (127.0.0.1 only); 0 picks a free port. */
      port: z.number().int().min(0).max(65_535).default(7890),
    })
    .default({ port: 7890 }),
  /** The system tray icon, started by the daemon when a graphical session exists. */
  tray: z
    .strictObject({
      /** The daemon starts `pubky-backup tray` beside itself (Linux: only with DISPLAY or WAYLAND_DISPLAY). */
      enabled: z.boolean().default(true),
    })
    .default({ enabled: true }),
});

export type Config = z.infer<typeof ConfigSchema>;

export const DEFAULT_CONFIG: Config = ConfigSchema.parse({});
