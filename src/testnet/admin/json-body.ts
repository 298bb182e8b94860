import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { HttpError, readSmallBody } from '../homeserver/http.js';

const MAX_JSON_BYTES = 16 * 1024 * 1024;

/** Reads a JSON body and validates it; 400 with the reason when it is not JSON or not valid. */
export async function readJson<T extends z.ZodType>(req: IncomingMessage, schema: T): Promise<z.infer<T>> {
  return validate(schema, await readJsonValue(req));
}

/** Reads a JSON body (up to 16 MiB); 400 when it is not JSON. */
export async function readJsonValue(req: IncomingMessage): Promise<unknown> {
  const text = new TextDecoder().decode(await readSmallBody(req, MAX_JSON_BYTES));
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'The body is not JSON');
  }
}

/** Validates a parsed body; 400 "Invalid body: <field>: <reason>; …" when it does not fit. */
export function validate<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
    throw new HttpError(400, `Invalid body: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** Answers `value` as JSON with the given status. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
