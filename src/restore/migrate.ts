import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { HomeserverClient, Session } from '../homeserver/index.js';
import { type Keypair, parsePubky } from '../identity/index.js';
import {
  fileResolutionStore,
  homeserverOf,
  type PkdnsResolver,
  type PublishOptions,
  publishHomeserver,
} from '../pkdns/index.js';
import { type KeyLayout, readCursor, readKeyConfig } from '../store/index.js';
import { type RemoteVerifyReport, saveVerifyReport, verifyAgainstHomeserver } from '../verify/index.js';
import { RestoreError } from './errors.js';
import { RestoreJournal } from './journal.js';
import {
  MIGRATE_STEPS,
  type MigrateRecord,
  type MigrateStep,
  nextStep,
  readMigrateRecord,
  type StepRecord,
  writeMigrateRecord,
} from './migrate-state.js';
import { openRestoreSource } from './open-source.js';
import { repointBackup } from './repoint.js';
import { type RestoreProgress, type RestoreSummary, restoreFiles } from './restore.js';
import { openSession } from './session.js';
import type { SourceSpec } from './source.js';
import { probeHomeserver, type RestoreTarget } from './target.js';

export interface MigrateOptions {
  layout: KeyLayout;
  target: RestoreTarget;
  /** A client for `target.url`. */
  client: HomeserverClient;
  /** The user's key (checked against the pubky by the caller); not needed for a dry run. */
  keypair?: Keypair;
  /** `--from` as the user gave it (recorded), and parsed. */
  sourceText: string;
  sourceSpec: SourceSpec;
  signupToken?: string;
  /** Uploads and HEADs in flight. */
  concurrency: number;
  /** Where `_pubky` is published: pkarr relays (and the DHT). */
  publish: Omit<PublishOptions, 'timeoutMs'>;
  /** A resolver that keeps this key's resolution (`state/homeserver.json`): refreshed after publishing. */
  resolver?: PkdnsResolver;
  dryRun?: boolean;
  signal?: AbortSignal;
  onStep?: (step: MigrateStep, record: StepRecord) => void;
  onProgress?: (progress: RestoreProgress) => void;
}

export interface MigrateResult {
  pubky: string;
  dryRun: boolean;
  target: MigrateRecord['target'];
  /** Every step done (a dry run: nothing was done). */
  complete: boolean;
  /** The step this run started at, when an earlier, interrupted run had done the ones before. */
  resumedAt?: MigrateStep;
  /** The record of each step (a dry run: what each would do, as `detail`). */
  steps: Array<{ step: MigrateStep } & Partial<StepRecord>>;
  restore?: RestoreSummary;
  verify?: RemoteVerifyReport;
  /** Where the verify report was kept. */
  verifyFile?: string;
  notes: string[];
}

/**
 * Moves a backed-up pubky to another homeserver, step by step, each recorded in
 * `state/migrate.json` so an interrupted migrate resumes where it stopped:
 * 1. `check`: the target answers like a homeserver and has a key (`_pubky` can only name a key),
 *    and is not the one the backup already follows;
 * 2. `signup`: sign in there, or sign up (with `signupToken` on a token-mode homeserver);
 * 3. `restore`: upload the source (the mirror by default; never the old homeserver) — resumable,
 *    no file uploaded twice (see `restoreFiles`); files that fail stop the migrate here;
 * 4. `publish`: the user's `_pubky` record → the new homeserver's key, compare-and-swap on the
 *    old packet's timestamp, every other record kept (`publishHomeserver`);
 * 5. `repoint`: the backup follows the new homeserver without downloading again (`repointBackup`),
 *    and the key's cached PKDNS answer is refreshed;
 * 6. `verify`: the backup against the new homeserver (`verifyAgainstHomeserver`), report kept.
 * A dry run writes nothing and sends nothing but reads (listing, HEAD): it returns the plan.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const { layout, target, client } = options;
  if (!existsSync(layout.keyDir)) {
    throw new RestoreError(
      'KEY_NOT_ADDED',
      `${layout.z32} is not backed up in this data folder: migrate moves a backed-up pubky (a restore from a snapshot or a folder works without one).`,
    );
  }
  if (!target.key) {
    throw new RestoreError(
      'HOMESERVER_KEY_REQUIRED',
      `Migrating publishes a _pubky record naming the new homeserver's key, and ${target.url} is only an address: ` +
        'name the homeserver by its pubky, or give its pubky along with the address.',
    );
  }
  const notes: string[] = [];
  const existing = await readMigrateRecord(layout);
  const resuming =
    existing !== undefined && existing.finishedAt === undefined && existing.target.url === target.url;
  if (existing && !existing.finishedAt && !resuming) {
    notes.push(
      `an unfinished migrate to ${existing.target.url} was abandoned; this one starts from the beginning`,
    );
  }
  const record = resuming ? existing : await freshRecord(layout, target, options.sourceText);
  const firstStep = nextStep(record);
  const result: MigrateResult = {
    pubky: layout.z32,
    dryRun: options.dryRun === true,
    target: record.target,
    complete: false,
    ...(resuming && firstStep !== 'check' && firstStep !== undefined && { resumedAt: firstStep }),
    steps: [],
    notes,
  };
  if (!resuming) assertNotThere(record);
  if (options.dryRun) return plan(options, record, result);

  const keypair = options.keypair;
  if (!keypair) throw new RestoreError('KEY_REQUIRED', "Migrating needs the user's key.");
  let session: Session | undefined;
  const signIn = async () => {
    const opened = await openSession(client, keypair, {
      signupToken: options.signupToken,
      signal: options.signal,
    });
    session = opened.session;
    return opened.signedUp;
  };
  const run = async (step: MigrateStep, work: () => Promise<string>) => {
    if (record.steps[step]?.status === 'done') return;
    const started: StepRecord = { status: 'running', startedAt: new Date().toISOString() };
    record.steps[step] = started;
    await writeMigrateRecord(layout, record);
    options.onStep?.(step, started);
    try {
      const detail = await work();
      record.steps[step] = { ...started, status: 'done', finishedAt: new Date().toISOString(), detail };
    } catch (error) {
      record.steps[step] = {
        ...started,
        status: 'failed',
        finishedAt: new Date().toISOString(),
        detail: (error as Error).message,
      };
      throw error;
    } finally {
      await writeMigrateRecord(layout, record);
      options.onStep?.(step, record.steps[step] as StepRecord);
      result.steps = stepList(record);
    }
  };

  await run('check', async () => {
    await probeHomeserver(client, options.signal);
    return `${target.url} answers as a homeserver (${target.key})`;
  });
  await run('signup', async () =>
    (await signIn()) ? 'signed up as a new user' : 'the user already has an account there: signed in',
  );
  await run('restore', async () => {
    if (!session) await signIn();
    const source = await openRestoreSource(options.sourceSpec, layout);
    try {
      const summary = await restoreFiles({
        pubky: layout.z32,
        source,
        client,
        session,
        concurrency: options.concurrency,
        journal: await RestoreJournal.open(layout, target.url, options.sourceText),
        signal: options.signal,
        onProgress: options.onProgress,
      });
      result.restore = summary;
      const sourceSide = new Set(source.unusable.map((u) => u.path));
      const uploadFailures = summary.failed.filter((f) => !sourceSide.has(f.path));
      if (uploadFailures.length > 0) {
        throw new RestoreError(
          'WRITES_REFUSED',
          `${uploadFailures.length} files could not be uploaded (first: ${uploadFailures[0]?.path}: ${uploadFailures[0]?.reason}); ` +
            'run migrate again to upload the rest (what is there is not uploaded again).',
        );
      }
      if (summary.failed.length > 0) {
        notes.push(
          `${summary.failed.length} files of the source could not be restored (damaged or missing in it)`,
        );
      }
      return `${summary.uploaded} files uploaded (${summary.uploadedBytes} bytes), ${summary.alreadyThere} already there`;
    } finally {
      await source.close();
    }
  });
  await run('publish', async () => {
    const outcome = await publishHomeserver(keypair, parsePubky(target.key as string), options.publish);
    const previous = (outcome.previous && homeserverOf(outcome.previous)?.z32) ?? 'none';
    const accepted = outcome.results.filter((r) => r.ok).length;
    return `_pubky now names ${target.key} (was ${previous}); accepted by ${accepted} of ${outcome.results.length}`;
  });
  let identity = record.before.homeserverUrl !== undefined ? target.url : (target.key as string);
  await run('repoint', async () => {
    const repointed = await repointBackup(layout, record.before, record.target);
    identity = repointed.identity;
    if (options.resolver && record.before.homeserverUrl === undefined) {
      const user = parsePubky(layout.z32);
      // Forget the cached answer (memory and `state/homeserver.json`, which the resolver would
      // load as fresh) so the lookup asks the relays, and the new answer is kept.
      await rm(layout.homeserverFile, { force: true });
      options.resolver.invalidate(user);
      const resolved = await options.resolver.resolveHomeserver(user);
      if (resolved.homeserver !== target.key) {
        throw new RestoreError(
          'PUBLISH_FAILED',
          `PKDNS still names ${resolved.homeserver ?? resolved.domain} for ${layout.z32}; the relays may not have the new record yet: run migrate again.`,
        );
      }
    }
    return repointed.keyConfig.homeserverUrl
      ? `the backup is pinned to ${repointed.keyConfig.homeserverUrl}; the next sync compares by listing, without downloading again`
      : 'the backup follows PKDNS, which names the new homeserver; the next sync compares by listing, without downloading again';
  });
  await run('verify', async () => {
    const report = await verifyAgainstHomeserver({
      client,
      layout,
      identity,
      concurrency: options.concurrency,
      signal: options.signal,
    });
    result.verify = report;
    result.verifyFile = await saveVerifyReport(layout, report);
    const c = report.counts;
    return report.outcome === 'identical'
      ? `identical: ${c.identical} files`
      : `differences: ${c.missing} missing, ${c.changed} changed, ${c.notBackedUp} not backed up, ${c.unverifiable} unverifiable`;
  });
  record.finishedAt = new Date().toISOString();
  await writeMigrateRecord(layout, record);
  result.complete = true;
  result.steps = stepList(record);
  return result;
}

/** A new record: what the backup followed before, for the repoint step. */
async function freshRecord(layout: KeyLayout, target: RestoreTarget, source: string): Promise<MigrateRecord> {
  const config = await readKeyConfig(layout.keyConfigFile, layout.z32);
  const stored = await fileResolutionStore(() => layout.homeserverFile).load(layout.z32);
  const now = new Date().toISOString();
  return {
    version: 1,
    pubky: layout.z32,
    target: { given: target.given, url: target.url, ...(target.key && { key: target.key }) },
    before: {
      ...(config.homeserverUrl !== undefined && { homeserverUrl: config.homeserverUrl }),
      ...(config.syncedFrom !== undefined && { syncedFrom: config.syncedFrom }),
      ...(stored?.homeserver && { homeserver: stored.homeserver }),
      cursor: await readCursor(layout.cursorFile),
    },
    source,
    startedAt: now,
    updatedAt: now,
    steps: {},
  };
}

/** A fresh migrate to the homeserver the backup already follows is a mistake: say so. */
function assertNotThere(record: MigrateRecord): void {
  const { before, target } = record;
  const there =
    before.homeserverUrl !== undefined
      ? before.homeserverUrl === target.url
      : before.homeserver === target.key;
  if (there) {
    throw new RestoreError(
      'ALREADY_THERE',
      `The backup of ${record.pubky} already follows ${target.key} (${target.url}): there is nothing to migrate. ` +
        'To upload the backup there again, use `restore`.',
    );
  }
}

/** What a migrate would do, without doing it: the target is only read (listing, HEAD). */
async function plan(
  options: MigrateOptions,
  record: MigrateRecord,
  result: MigrateResult,
): Promise<MigrateResult> {
  await probeHomeserver(options.client, options.signal);
  const source = await openRestoreSource(options.sourceSpec, options.layout);
  try {
    result.restore = await restoreFiles({
      pubky: options.layout.z32,
      source,
      client: options.client,
      concurrency: options.concurrency,
      dryRun: true,
      signal: options.signal,
    });
  } finally {
    await source.close();
  }
  const r = result.restore;
  const what: Record<MigrateStep, string> = {
    check: `check that ${record.target.url} answers as a homeserver`,
    signup: `sign in on ${record.target.key}, or sign up${options.signupToken ? ' with the signup token' : ''}`,
    restore:
      `upload ${plural(r.uploaded, 'file')} (${r.uploadedBytes} bytes) from ${r.source.kind} ${r.source.location}; ` +
      `${r.alreadyThere} already there` +
      (r.failed.length > 0 ? `; ${plural(r.failed.length, 'file')} cannot be restored from it` : ''),
    publish: `publish _pubky → ${record.target.key} to ${plural(options.publish.relays.length, 'relay')}${options.publish.dht ? ' and the DHT' : ''} (other records kept)`,
    repoint: record.before.homeserverUrl
      ? `pin the backup to ${record.target.url} (no file downloaded again)`
      : 'let the backup follow PKDNS to the new homeserver (no file downloaded again)',
    verify: `verify the backup against ${record.target.url}`,
  };
  result.steps = MIGRATE_STEPS.map((step) => ({
    step,
    ...(record.steps[step]?.status === 'done' ? { status: 'done' as const } : {}),
    detail: what[step],
  }));
  return result;
}

function stepList(record: MigrateRecord): MigrateResult['steps'] {
  return MIGRATE_STEPS.filter((step) => record.steps[step]).map((step) => ({
    step,
    ...(record.steps[step] as StepRecord),
  }));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
