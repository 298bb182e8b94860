import { createRequire } from 'node:module';
import { createParser } from 'eventsource-parser';
import type { Agent } from 'undici';
import type { BackupEvent } from '../app/index.js';
import { BackupError, type ErrorCategory } from '../errors.js';
import { type DaemonInfo, findDaemon } from './daemon-file.js';

let agent: Agent | undefined;

/** One keep-alive pool without header or body timeouts (the daemon is on 127.0.0.1). */
function patientAgent(): Agent {
  // Only undici's pool: its index takes several times longer to load (see homeserver/transport.ts).
  const AgentClass = createRequire(import.meta.url)('undici/lib/dispatcher/agent.js') as typeof Agent;
  agent ??= new AgentClass({ headersTimeout: 0, bodyTimeout: 0 });
  return agent;
}

/**
 * A client of a running daemon's control API (`/api/v1`), for the CLI beside a daemon and the
 * tray. Every failure is a `BackupError`: the API's own `{error: {code, message, details}}`, or
 * `DAEMON_UNREACHABLE` when nobody answers.
 */
export class DaemonClient {
  readonly url: string;

  constructor(readonly info: DaemonInfo) {
    this.url = `http://127.0.0.1:${info.port}/api/v1`;
  }

  /** The client of the daemon holding `dataDir`, or undefined when none runs. */
  static async connect(dataDir: string): Promise<DaemonClient | undefined> {
    const info = await findDaemon(dataDir);
    return info && new DaemonClient(info);
  }

  /** One API call; the JSON body of the answer. */
  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.info.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        // A migrate or a move answers when it is done, which may take hours: fetch's own 300 s
        // header timeout would cut it (the daemon carries on, the CLI would not hear the result).
        dispatcher: patientAgent(),
      } as RequestInit);
    } catch (error) {
      throw new BackupError(
        'DAEMON_UNREACHABLE',
        `The daemon (pid ${this.info.pid}) does not answer on port ${this.info.port}: ${(error as Error).message}.`,
        'unavailable',
        {},
        { cause: error },
      );
    }
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : {};
    if (!response.ok) {
      const failure = (
        parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown> } }
      ).error;
      throw new BackupError(
        failure?.code ?? `HTTP_${response.status}`,
        failure?.message ?? `The daemon answered ${response.status}.`,
        categoryOfStatus(response.status),
        failure?.details ?? {},
      );
    }
    return parsed as T;
  }

  /**
   * Follows the event stream from `since` until `signal` aborts; reconnects (resuming after the
   * last id seen) when the connection drops. `onEvent` gets every event once, in order.
   */
  async events(since: number, onEvent: (event: BackupEvent) => void, signal: AbortSignal): Promise<void> {
    let last = since;
    while (!signal.aborted) {
      try {
        const response = await fetch(`${this.url}/events?since=${last}`, {
          headers: { authorization: `Bearer ${this.info.token}` },
          signal,
        });
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        const parser = createParser({
          onEvent: (message) => {
            const event = JSON.parse(message.data) as BackupEvent;
            if (event.id <= last) return;
            last = event.id;
            onEvent(event);
          },
        });
        const decoder = new TextDecoder();
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          parser.feed(decoder.decode(chunk, { stream: true }));
        }
      } catch {
        if (signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

function categoryOfStatus(status: number): ErrorCategory {
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 503) return 'unavailable';
  if (status === 400) return 'invalid';
  if (status === 401 || status === 403) return 'invalid';
  return 'internal';
}
