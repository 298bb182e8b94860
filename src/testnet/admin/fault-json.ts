import { z } from 'zod';
import { parsePubky } from '../../identity/index.js';
import type { ActiveFaultRule, FaultRule, RouteName } from '../homeserver/index.js';

const ROUTES = [
  'root',
  'signup',
  'session',
  'events',
  'events-stream',
  'read',
  'list',
  'write',
  'delete',
] as const satisfies readonly RouteName[];

const FaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('latency'), ms: z.number().int().min(0).max(600_000) }),
  z.strictObject({
    kind: z.literal('status'),
    status: z.number().int().min(100).max(599),
    body: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('rate-limit'), retryAfterSeconds: z.number().int().min(0) }),
  z.strictObject({ kind: z.literal('reset') }),
  z.strictObject({ kind: z.literal('truncate'), afterBytes: z.number().int().min(0) }),
  z.strictObject({ kind: z.literal('tamper') }),
  z.strictObject({ kind: z.literal('drop') }),
]);

/**
 * A `FaultRule` as JSON (the admin server's `POST /testnet/faults`): the same fields, except that
 * a path pattern is `pathPattern` (a JavaScript regular expression source) instead of a RegExp,
 * and `user` may be any pubky form.
 */
export const FaultRuleJsonSchema = z
  .strictObject({
    route: z.union([z.enum(ROUTES), z.array(z.enum(ROUTES)).min(1)]).optional(),
    method: z.string().min(1).optional(),
    path: z.string().startsWith('/').optional(),
    pathPattern: z.string().min(1).optional(),
    user: z.string().optional(),
    times: z.number().int().min(1).optional(),
    fault: FaultSchema,
  })
  .refine((rule) => rule.path === undefined || rule.pathPattern === undefined, {
    message: 'give either path or pathPattern, not both',
  });

export type FaultRuleJson = z.infer<typeof FaultRuleJsonSchema>;

/** Turns validated JSON into a rule; throws `Error` for a bad pattern or user. */
export function faultRuleFromJson(json: FaultRuleJson): FaultRule {
  const { pathPattern, user, ...rest } = json;
  const rule: FaultRule = { ...rest };
  if (pathPattern !== undefined) {
    try {
      rule.path = new RegExp(pathPattern);
    } catch (error) {
      throw new Error(`pathPattern is not a regular expression: ${(error as Error).message}`);
    }
  }
  if (user !== undefined) rule.user = parsePubky(user).z32;
  return rule;
}

/** A rule in force, as JSON: `{ id, ...rule }` with a RegExp path given back as `pathPattern`. */
export function activeRuleToJson({ id, rule }: ActiveFaultRule): Record<string, unknown> {
  const { path, ...rest } = rule;
  return {
    id,
    ...rest,
    ...(typeof path === 'string' && { path }),
    ...(path instanceof RegExp && { pathPattern: path.source }),
  };
}
