import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyLayout } from '../store/index.js';
import { writeFileAtomic } from '../util/atomic-file.js';

/** The steps of a migrate, in order. */
export const MIGRATE_STEPS = ['check', 'signup', 'restore', 'publish', 'repoint', 'verify'] as const;
export type MigrateStep = (typeof MIGRATE_STEPS)[number];

export interface StepRecord {
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt?: string;
  /** What the step did or why it failed, in words (never a secret). */
  detail?: string;
}

/**
 * `keys/<z32>/state/migrate.json`: where a migrate is, so an interrupted one resumes at the step it
 * stopped in. Holds no secret: no key, no passphrase, no session cookie, no signup token.
 */
export interface MigrateRecord {
  version: 1;
  pubky: string;
  target: { given: string; url: string; key?: string };
  /** How the backup followed the user before the migrate (key.json), for the repoint step. */
  before: { homeserverUrl?: string; syncedFrom?: string; homeserver?: string; cursor: string };
  /** `--from`, as given or defaulted (`mirror`, `snapshot`, a file, a folder). */
  source: string;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  steps: Partial<Record<MigrateStep, StepRecord>>;
}

export function migrateFile(layout: KeyLayout): string {
  return join(layout.stateDir, 'migrate.json');
}

/** The record, or undefined when there is none or it cannot be read (it then starts over). */
export async function readMigrateRecord(layout: KeyLayout): Promise<MigrateRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(migrateFile(layout), 'utf8')) as MigrateRecord;
    return record.version === 1 && record.pubky === layout.z32 && typeof record.steps === 'object'
      ? record
      : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the record atomically, stamping `updatedAt`. */
export async function writeMigrateRecord(layout: KeyLayout, record: MigrateRecord): Promise<void> {
  record.updatedAt = new Date().toISOString();
  await writeFileAtomic(migrateFile(layout), `${JSON.stringify(record, null, 2)}\n`);
}

/** The first step not done yet, or undefined when every step is. */
export function nextStep(record: MigrateRecord): MigrateStep | undefined {
  return MIGRATE_STEPS.find((step) => record.steps[step]?.status !== 'done');
}
