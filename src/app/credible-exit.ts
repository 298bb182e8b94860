import { existsSync } from 'node:fs';
import type { Config } from '../config/index.js';
import { HomeserverClient } from '../homeserver/index.js';
import type { Keypair } from '../identity/index.js';
import type { PkdnsResolver, PublishOptions } from '../pkdns/index.js';
import {
  type MigrateResult,
  type MigrateStep,
  migrate,
  openRestoreSource,
  openSession,
  probeHomeserver,
  RestoreJournal,
  type RestoreProgress,
  type RestoreSummary,
  resolveTarget,
  restoreFiles,
  type StepRecord,
  sourceSpecOf,
  targetClient,
} from '../restore/index.js';
import { KeyLayout, readKeyConfig } from '../store/index.js';
import { type RemoteVerifyReport, saveVerifyReport, verifyAgainstHomeserver } from '../verify/index.js';
import { requireAddedKey } from './keys.js';
import { locateHomeserver } from './pkdns.js';

/** What the credible-exit use-cases need from their caller (the service or a CLI process). */
export interface ExitContext {
  dataDir: string;
  config: Config;
  /** The PKDNS resolver, opened on first use (keeps each key's resolution). */
  resolver: () => Promise<PkdnsResolver>;
}

/** A verify report and the file it was kept in (`state/verify/<UTC time>.json`). */
export type VerifyOutcome = RemoteVerifyReport & { report: string };

/**
 * Compares a backed-up pubky with what its homeserver serves now (listing + ETags, or every byte
 * with `readData`) and keeps the report. Reads only: safe beside a running sync. The homeserver is
 * the pinned one in `key.json`, else found through PKDNS. Errors: `KEY_NOT_ADDED`, homeserver
 * errors (`HomeserverError`), `ABORTED` when `signal` fires (no report kept).
 */
export async function verifyKey(
  context: ExitContext,
  text: string,
  options: { readData?: boolean; signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
): Promise<VerifyOutcome> {
  const layout = requireAddedKey(context.dataDir, text);
  const keyConfig = await readKeyConfig(layout.keyConfigFile, layout.z32);
  const location = keyConfig.homeserverUrl
    ? { url: keyConfig.homeserverUrl, identity: keyConfig.homeserverUrl }
    : await locateHomeserver(await context.resolver(), layout.z32);
  const client = new HomeserverClient({
    baseUrl: location.url,
    requestTimeoutMs: context.config.requestTimeoutSeconds * 1000,
  });
  const report = await verifyAgainstHomeserver({
    client,
    layout,
    identity: location.identity,
    concurrency: context.config.downloadConcurrency,
    readData: options.readData,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  return { ...report, report: await saveVerifyReport(layout, report) };
}

/** The choices of a restore or a migrate (the CLI flags, the API body). */
export interface ExitOptions {
  /** The target homeserver: its pubky (found through PKDNS) or its http(s) URL. */
  to: string;
  /** `mirror` (default), `snapshot`, a snapshot .zip or a folder laid out like `data/`. */
  from?: string;
  /** With a snapshot source: the snapshot current at this time. */
  at?: Date;
  /** The user's key (checked against the pubky); not needed for a dry run. */
  keypair?: Keypair;
  signupToken?: string;
  dryRun?: boolean;
  /** Uploads at once (default: config `downloadConcurrency`). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (progress: RestoreProgress) => void;
}

/**
 * Uploads a backup (mirror, snapshot or folder) into the pubky's account on a homeserver: signs
 * in, or up (with `signupToken`), skips what is already there (ETag = BLAKE3), never deletes there
 * unless `deleteExtra`; resumable through `state/restore/<target>.jsonl` when the pubky is backed
 * up here. A pubky that is not backed up here can be restored from a snapshot .zip or a folder.
 * Errors: `RestoreError` codes (`KEY_REQUIRED`, `KEY_MISMATCH`, `SIGNUP_TOKEN_REQUIRED`,
 * `BAD_SOURCE`, …), homeserver errors; per-file failures are in the summary's `failed`.
 */
export async function restoreKey(
  context: ExitContext,
  pubky: string,
  options: ExitOptions & { deleteExtra?: boolean },
): Promise<RestoreSummary> {
  const layout = new KeyLayout(context.dataDir, pubky);
  const spec = await sourceSpecOf(options.from, options.at);
  const target = await resolveTarget(options.to, context.resolver);
  const client = targetClient(target, context.config.requestTimeoutSeconds * 1000);
  await probeHomeserver(client, options.signal);
  const source = await openRestoreSource(spec, layout);
  try {
    const session =
      !options.dryRun && options.keypair
        ? await openSession(client, options.keypair, {
            signupToken: options.signupToken,
            signal: options.signal,
          })
        : undefined;
    const journal =
      !options.dryRun && existsSync(layout.keyDir)
        ? await RestoreJournal.open(layout, target.url, options.from ?? 'mirror')
        : undefined;
    const summary = await restoreFiles({
      pubky: layout.z32,
      source,
      client,
      session: session?.session,
      concurrency: options.concurrency ?? context.config.downloadConcurrency,
      dryRun: options.dryRun,
      deleteExtra: options.deleteExtra,
      journal,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    if (session?.signedUp) summary.notes.unshift(`signed ${layout.z32} up on ${target.url}`);
    return summary;
  } finally {
    await source.close();
  }
}

/**
 * Moves a backed-up pubky to another homeserver (check → signup → restore → publish `_pubky` →
 * repoint → verify, each step recorded in `state/migrate.json` and resumed by a rerun; see
 * `restore/migrate.ts`). The caller must hold the data folder (the service does) and must not sync
 * the key meanwhile. `publish`: the pkarr relays (and DHT) the new record goes to.
 */
export async function migrateKey(
  context: ExitContext & { publish: Omit<PublishOptions, 'timeoutMs'> },
  text: string,
  options: ExitOptions & {
    homeserverKey?: string;
    onStep?: (step: MigrateStep, record: StepRecord) => void;
  },
): Promise<MigrateResult> {
  const layout = requireAddedKey(context.dataDir, text);
  const spec = await sourceSpecOf(options.from, options.at);
  const resolver = await context.resolver();
  const target = await resolveTarget(options.to, async () => resolver, options.homeserverKey);
  return migrate({
    layout,
    target,
    client: targetClient(target, context.config.requestTimeoutSeconds * 1000),
    keypair: options.keypair,
    sourceText: options.from ?? (options.at ? 'snapshot' : 'mirror'),
    sourceSpec: spec,
    signupToken: options.signupToken,
    concurrency: options.concurrency ?? context.config.downloadConcurrency,
    publish: context.publish,
    resolver,
    dryRun: options.dryRun,
    signal: options.signal,
    onStep: options.onStep,
    onProgress: options.onProgress,
  });
}
