import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { HomeserverError, kindOfStatus, MAX_ERROR_BODY_BYTES, parseRetryAfter } from './errors.js';
import { describe, type RequestSpec } from './transport.js';

/** What a HEAD or PUT answered: status and headers (the body, if any, was read or dropped). */
export interface LightResponse {
  url: string;
  status: number;
  header(name: string): string | undefined;
}

/**
 * HEAD and PUT over `node:http(s)` with a keep-alive agent, for the requests restore and verify send
 * by the thousand. `fetch` (undici) turns every streamed body into a web stream and copies each
 * chunk: measured on the restore benchmark, a PUT costs about 3× the CPU and a HEAD 4–5× the CPU of
 * the same request here (BENCHMARKS.md). The promises are those of `transport.ts`: headers within
 * `timeoutMs`, an upload that makes no progress for `timeoutMs` is given up, the caller's signal
 * aborts, and every failure is a `HomeserverError` (a status other than 2xx: kind by status, the
 * first 1 KiB of the body, `Retry-After`). A body that throws while it is sent aborts the request
 * (the homeserver gets an incomplete body and stores nothing); its error is the `cause`.
 */
export class LightTransport {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly secure: boolean;

  constructor(baseUrl: string) {
    this.secure = baseUrl.startsWith('https:');
    // Idle sockets are unref'd by the agent: they never keep the process alive.
    this.agent = this.secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  /** Sends one request; 2xx resolves, anything else throws `HomeserverError`. */
  async send(spec: RequestSpec): Promise<LightResponse> {
    const url = `${spec.baseUrl}${spec.target}`;
    if (spec.signal?.aborted) throw aborted(spec, url);
    const headers: Record<string, string> = { ...spec.headers };
    const body = spec.body;
    if (body instanceof Uint8Array) headers['content-length'] = String(body.length);
    else if (body !== undefined && spec.contentLength !== undefined) {
      headers['content-length'] = String(spec.contentLength);
    }
    const send = this.secure ? httpsRequest : httpRequest;
    const req = send(url, { method: spec.method, headers, agent: this.agent });
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
      }, spec.timeoutMs);
    };
    const onAbort = () => req.destroy();
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    let bodyError: unknown;
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      // Kept for the request's life: a late error (EPIPE after an early answer) must not go unheard.
      req.on('error', reject);
    });
    let responded = false;
    void answered.then(
      () => {
        responded = true;
      },
      () => {},
    );
    arm();
    const writing = writeBody(req, body, arm, () => responded).catch((error: unknown) => {
      bodyError = error;
      req.destroy();
    });
    try {
      const response = await answered;
      clearTimeout(timer);
      const status = response.statusCode ?? 0;
      const header = (name: string) => {
        const value = response.headers[name.toLowerCase()];
        return Array.isArray(value) ? value.join(', ') : value;
      };
      if (status < 200 || status >= 300) {
        // An early refusal (401 before the body was read): the socket goes, the writer stops.
        const error = await statusError(spec, url, response, header);
        req.destroy();
        await writing;
        throw error;
      }
      await writing;
      await drain(response, spec.timeoutMs);
      if (!req.writableFinished) req.destroy(); // answered before the whole body was sent: never reuse
      return { url, status, header };
    } catch (error) {
      if (error instanceof HomeserverError) throw error;
      if (spec.signal?.aborted) throw aborted(spec, url);
      if (bodyError !== undefined) {
        throw new HomeserverError(
          'network',
          url,
          `${spec.label} to homeserver ${spec.baseUrl} stopped: ${(bodyError as Error).message ?? bodyError}`,
          { cause: bodyError },
        );
      }
      const what = timedOut
        ? `did not answer ${spec.label} within ${seconds(spec.timeoutMs)}`
        : `did not answer ${spec.label}: ${describe(error)}`;
      throw new HomeserverError('network', url, `Homeserver ${spec.baseUrl} ${what}.`, { cause: error });
    } finally {
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Writes the body with backpressure, re-arming the idle timer for each chunk; stops if answered. */
async function writeBody(
  req: ClientRequest,
  body: Uint8Array | AsyncIterable<Uint8Array> | undefined,
  progress: () => void,
  answered: () => boolean,
): Promise<void> {
  if (body === undefined) {
    req.end();
    return;
  }
  const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = body instanceof Uint8Array ? [body] : body;
  for await (const chunk of chunks) {
    if (answered() || req.destroyed) return;
    progress();
    if (!req.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          req.off('drain', done);
          req.off('close', done);
          resolve();
        };
        req.on('drain', done);
        req.on('close', done);
      });
    }
  }
  if (!req.destroyed) {
    progress();
    req.end();
  }
}

/**
 * Reads what is left of a (small) answer to its end: only then does the agent take the socket back
 * for the next request (an answer never read keeps its socket, and every request opens a new one).
 */
function drain(response: IncomingMessage, timeoutMs: number): Promise<void> {
  if (response.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      response.destroy();
      resolve();
    }, timeoutMs);
    response.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    response.on('error', () => {
      clearTimeout(timer);
      resolve();
    });
    response.resume();
  });
}

/** As `Exchange.statusError`: kind by status, the first ≤ 1 KiB of the body, Retry-After. */
async function statusError(
  spec: RequestSpec,
  url: string,
  response: IncomingMessage,
  header: (name: string) => string | undefined,
): Promise<HomeserverError> {
  const parts: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(finish, spec.timeoutMs);
    function finish() {
      clearTimeout(timer);
      response.destroy();
      resolve();
    }
    response.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      size += chunk.length;
      if (size >= MAX_ERROR_BODY_BYTES) finish();
    });
    response.on('end', finish);
    response.on('error', finish);
  });
  const body = new TextDecoder()
    .decode(Buffer.concat(parts).subarray(0, MAX_ERROR_BODY_BYTES))
    .replace(/\uFFFD$/, '')
    .trim();
  const status = response.statusCode ?? 0;
  const retryAfterMs =
    status === 429 || status === 503 ? parseRetryAfter(header('retry-after') ?? null) : undefined;
  const message =
    `Homeserver ${spec.baseUrl} answered ${status} for ${spec.label}` +
    (body ? `: ${body}` : '') +
    (retryAfterMs !== undefined ? ` (retry after ${seconds(retryAfterMs)})` : '');
  return new HomeserverError(kindOfStatus(status), url, message, { status, retryAfterMs, body });
}

function aborted(spec: RequestSpec, url: string): HomeserverError {
  return new HomeserverError('aborted', url, `${spec.label} on homeserver ${spec.baseUrl} was aborted.`, {
    cause: spec.signal?.reason,
  });
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
