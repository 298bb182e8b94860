import { EVENT_TYPES } from '../app/event-types.js';
/** The dashboard talks only to the daemon's control API, with its session cookie (same origin). */

export interface ApiError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** An API answer that is not 2xx: its `{error: {code, message, details}}` and status. */
export class RequestFailed extends Error {
  constructor(
    readonly status: number,
    readonly error: ApiError,
  ) {
    super(error.message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/api/v1${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : {};
  if (!response.ok) {
    throw new RequestFailed(
      response.status,
      parsed.error ?? {
        code: `HTTP_${response.status}`,
        message: `The daemon answered ${response.status}.`,
        details: {},
      },
    );
  }
  return parsed as T;
}

export interface BackupEvent {
  id: number;
  type: string;
  time: string;
  data: Record<string, unknown>;
}

/**
 * Follows the event stream from `since`; EventSource reconnects by itself and resumes with
 * Last-Event-ID. Returns the function that stops it.
 */
export function followEvents(since: number, onEvent: (event: BackupEvent) => void): () => void {
  const source = new EventSource(`/api/v1/events?since=${since}`);
  const handler = (message: MessageEvent) => onEvent(JSON.parse(message.data) as BackupEvent);
  for (const type of EVENT_TYPES) source.addEventListener(type, handler as EventListener);
  return () => source.close();
}

const listeners = new Set<(event: BackupEvent) => void>();

/** Hands a daemon event to every panel that listens (the App follows the stream once). */
export function dispatchEvent(event: BackupEvent): void {
  for (const listener of listeners) listener(event);
}

/** Listens to the daemon's events; returns the function that stops listening. */
export function onEvent(listener: (event: BackupEvent) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
