import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-file.js';
import { ConfigError } from './errors.js';
import { type Config, ConfigSchema, DEFAULT_CONFIG } from './schema.js';

export const CONFIG_FILE_NAME = 'config.json';

export function configPath(dataDir: string): string {
  return join(dataDir, CONFIG_FILE_NAME);
}

/**
 * Reads and validates `config.json`. A missing file means defaults; a corrupt or invalid one is an
 * error naming the file and field, and the file is left exactly as it is.
 */
export async function loadConfig(dataDir: string): Promise<Config> {
  const file = configPath(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(DEFAULT_CONFIG);
    throw new ConfigError(file, undefined, `Cannot read config file ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      file,
      undefined,
      `Config file ${file} is not valid JSON (${(error as Error).message}). Fix it or move it away to ` +
        'start from defaults; it was not changed.',
    );
  }
  return validate(file, raw);
}

/** Validates and writes the config atomically. */
export async function saveConfig(dataDir: string, config: unknown): Promise<Config> {
  const file = configPath(dataDir);
  const valid = validate(file, config);
  await mkdir(dataDir, { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(valid, null, 2)}\n`);
  return valid;
}

/** Returns a copy of `config` with the dotted `field` set to `value` (null: removed, so its default applies), validated. */
export function withField(file: string, config: Config, field: string, value: unknown): Config {
  const parts = field.split('.');
  const copy: Record<string, unknown> = structuredClone(config);
  let node: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      throw new ConfigError(file, field, `Unknown config field "${field}".`);
    }
    node = next as Record<string, unknown>;
  }
  // null removes the field: an optional one is unset, one with a default gets its default.
  if (value === null) delete node[parts.at(-1) as string];
  else node[parts.at(-1) as string] = value;
  return validate(file, copy, { field, value });
}

/** The config, or `ConfigError` naming the field; `setting`: the value being set is what is wrong. */
function validate(file: string, raw: unknown, setting?: { field: string; value: unknown }): Config {
  const result = ConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const field = fieldOf(issue);
  if (setting && field && (field === setting.field || field.startsWith(`${setting.field}.`))) {
    throw new ConfigError(
      file,
      field,
      `${setting.field} cannot be ${JSON.stringify(setting.value)}: ${describe(issue)}. Nothing was changed.`,
    );
  }
  throw new ConfigError(
    file,
    field,
    `Config file ${file} is invalid: ${field ? `field "${field}"` : 'the top level'}: ${describe(issue)}. ` +
      'Fix that field or remove it to use the default; the file was not changed.',
  );
}

function fieldOf(issue: z.core.$ZodIssue): string | undefined {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0] ?? '');
  return path.length > 0 ? path.join('.') : undefined;
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return 'unknown field (check its spelling)';
  return issue.message.replace(/^Invalid input: /, '');
}
