import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import {
  HomeserverError,
  type HomeserverErrorDetails,
  kindOfStatus,
  MAX_ERROR_BODY_BYTES,
  parseRetryAfter,
} from './errors.js';

/**
 * One HTTP exchange with a homeserver over undici's dispatcher (a keep-alive pool; no streams of
 * any kind in the way), with the two timeouts the client promises: the answer's headers
 * must come within `timeoutMs`, and after that every read of the body (and every chunk of an
 * upload) must make progress within `timeoutMs`. Every failure becomes a `HomeserverError`.
 * Internal to `src/homeserver/`.
 */

export interface RequestSpec {
  baseUrl: string;
  timeoutMs: number;
  method: string;
  /** Already percent-encoded path plus query string. */
  target: string;
  /** For messages: `GET /pub/naïve café.txt` (decoded, as a person reads it). */
  label: string;
  headers?: Record<string, string>;
  body?: Uint8Array | AsyncIterable<Uint8Array>;
  /** Sent as Content-Length with a streamed body. */
  contentLength?: number;
  signal?: AbortSignal;
}

/** A response body read chunk by chunk, never buffered; `cancel()` releases the connection. */
export interface ResponseBody extends AsyncIterable<Uint8Array> {
  cancel(): Promise<void>;
}

/** Upload chunk size: each chunk handed to the socket restarts the idle timer. */
const UPLOAD_CHUNK_BYTES = 64 * 1024;

/**
 * One pool for every homeserver client of the process: keep-alive connections per origin, reused
 * across requests (as curl does). Idle sockets do not keep the process alive. The timeouts are
 * ours (see `Exchange`), so undici's own are off.
 */
let agent: Agent | undefined;
function dispatcher(): Dispatcher {
  if (!agent) {
    // Only the pool, loaded on the first request: undici's index (fetch, WebSocket, caches…) takes
    // several times longer to load, and commands that make no request should not pay for it.
    const AgentClass = createRequire(import.meta.url)('undici/lib/dispatcher/agent.js') as typeof Agent;
    agent = new AgentClass({ keepAliveTimeout: 4_000, headersTimeout: 0, bodyTimeout: 0 });
  }
  return agent;
}

/** Body bytes queued ahead of the reader before the socket is paused. */
const QUEUE_BYTES = 256 * 1024;

/**
 * One request through `Dispatcher.dispatch` with this object as its handler: the lowest level
 * undici offers, with no `Readable` or web stream per response. The body's chunks are queued as
 * they arrive (the socket is paused beyond 256 KiB) and read by `chunks()`.
 */
export class Exchange implements Dispatcher.DispatchHandlers {
  status = 0;
  private rawHeaders: Buffer[] = [];
  private parsedHeaders: Map<string, string[]> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timedOut = false;
  private consumed = false;
  private cancelled = false;
  /** True while the consumer waits for the next body chunk (only then does the idle timer count). */
  private waiting = false;
  private answered = false;
  private abortRequest: ((error?: Error) => void) | undefined;
  private pendingAbort: Error | undefined;
  private queue: Buffer[] = [];
  private queued = 0;
  private paused = false;
  private resumeSocket: (() => void) | undefined;
  private complete = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private settle: { resolve(exchange: Exchange): void; reject(error: unknown): void } | undefined;
  private unlink: () => void = noop;

  private constructor(
    private readonly spec: RequestSpec,
    readonly url: string,
  ) {}

  static send(spec: RequestSpec): Promise<Exchange> {
    const url = `${spec.baseUrl}${spec.target}`;
    if (spec.signal?.aborted) return Promise.reject(abortedError(spec, url));
    const exchange = new Exchange(spec, url);
    return new Promise<Exchange>((resolve, reject) => {
      exchange.settle = { resolve, reject };
      exchange.start();
    });
  }

  private start(): void {
    const spec = this.spec;
    if (spec.signal) this.unlink = follow(spec.signal, (reason) => this.abort(reason));
    // The answer's headers must come within the timeout (re-armed per upload chunk).
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.abort(new Error('timeout'));
    }, spec.timeoutMs);
    const arm = () => {
      if (!this.answered) this.timer?.refresh();
    };
    const headers: Record<string, string> = { ...spec.headers };
    let body: Uint8Array | Readable | undefined;
    if (spec.body !== undefined) {
      const length = spec.body instanceof Uint8Array ? spec.body.length : spec.contentLength;
      if (length !== undefined) headers['content-length'] = String(length);
      body =
        spec.body instanceof Uint8Array && spec.body.length <= UPLOAD_CHUNK_BYTES
          ? spec.body
          : Readable.from(progressing(spec.body, arm), { objectMode: false });
    }
    // `baseUrl` is `<origin>[<path prefix>]` (see HomeserverClient); no URL parsing per request.
    const base = spec.baseUrl;
    const slash = base.indexOf('/', base.indexOf('//') + 2);
    try {
      dispatcher().dispatch(
        {
          origin: slash === -1 ? base : base.slice(0, slash),
          path: `${slash === -1 ? '' : base.slice(slash)}${spec.target}`,
          method: spec.method as Dispatcher.HttpMethod,
          headers,
          body,
        },
        this,
      );
    } catch (error) {
      this.onError(error as Error);
    }
  }

  // ---- undici's handler interface (not for callers) ----

  /** @internal */
  onConnect(abort: (error?: Error) => void): void {
    this.abortRequest = abort;
    if (this.pendingAbort) abort(this.pendingAbort);
  }

  /** @internal */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: the real answer follows
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    this.resumeSocket = resume;
    this.answered = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.settle?.resolve(this);
    this.settle = undefined;
    return true;
  }

  /** @internal */
  onData(chunk: Buffer): boolean {
    if (this.cancelled) return true;
    this.queue.push(chunk);
    this.queued += chunk.length;
    this.wakeReader();
    if (this.queued < QUEUE_BYTES) return true;
    this.paused = true;
    return false;
  }

  /** @internal */
  onComplete(): void {
    this.complete = true;
    this.unlink();
    this.wakeReader();
  }

  /** @internal */
  onError(error: Error): void {
    this.unlink();
    clearTimeout(this.timer);
    if (this.settle) {
      const settle = this.settle;
      this.settle = undefined;
      settle.reject(this.requestError(error));
      return;
    }
    this.failure = error;
    this.wakeReader();
  }

  // ---- the exchange, as the client uses it ----

  /** A response header (the first value of a repeated one), or undefined. */
  header(name: string): string | undefined {
    return this.headers().get(name.toLowerCase())?.[0];
  }

  /** Every `Set-Cookie` line of the answer. */
  setCookies(): string[] {
    return this.headers().get('set-cookie') ?? [];
  }

  /**
   * The body as chunks. Each read must make progress within the timeout; a body shorter than its
   * Content-Length, a reset or an idle connection throws a `network` error while iterating.
   */
  body(): ResponseBody {
    return {
      [Symbol.asyncIterator]: () => this.chunks(),
      cancel: () => this.cancel(),
    };
  }

  /** The whole body as UTF-8 text, refusing more than `maxBytes` (feeds, listings). */
  async text(maxBytes: number): Promise<string> {
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of this.chunks()) {
      size += chunk.length;
      if (size > maxBytes) {
        await this.cancel();
        throw new HomeserverError(
          'protocol',
          this.url,
          `Homeserver ${this.spec.baseUrl} sent more than ${maxBytes} bytes for ${this.spec.label}.`,
        );
      }
      parts.push(chunk);
    }
    return Buffer.concat(parts).toString('utf8');
  }

  /** Releases the connection without reading the rest of the body. */
  async cancel(): Promise<void> {
    this.consumed = true;
    this.cancelled = true;
    clearTimeout(this.timer);
    this.queue = [];
    this.queued = 0;
    // A body received in full leaves the connection to the pool; one still arriving closes it
    // (as with any HTTP/1.1 client).
    if (!this.complete && !this.failure) this.abort(new Error('cancelled'));
    this.unlink();
  }

  /** The error for an unexpected status: kind by status, first ≤ 1 KiB of the body, Retry-After. */
  async statusError(details: Pick<HomeserverErrorDetails, 'missingRoute'> = {}): Promise<HomeserverError> {
    const body = await this.errorBody();
    const status = this.status;
    const retryAfterMs =
      status === 429 || status === 503 ? parseRetryAfter(this.header('retry-after') ?? null) : undefined;
    const message =
      `Homeserver ${this.spec.baseUrl} answered ${status} for ${this.spec.label}` +
      (body ? `: ${body}` : '') +
      (retryAfterMs !== undefined ? ` (retry after ${seconds(retryAfterMs)})` : '');
    return new HomeserverError(kindOfStatus(status), this.url, message, {
      status,
      retryAfterMs,
      body,
      ...details,
    });
  }

  private async errorBody(): Promise<string> {
    const parts: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of this.chunks()) {
        parts.push(chunk);
        size += chunk.length;
        if (size >= MAX_ERROR_BODY_BYTES) break;
      }
    } catch {
      // the reason text is a courtesy: keep what arrived
    } finally {
      await this.cancel();
    }
    const bytes = Buffer.concat(parts).subarray(0, MAX_ERROR_BODY_BYTES);
    return new TextDecoder()
      .decode(bytes)
      .replace(/\uFFFD$/, '')
      .trim();
  }

  private async *chunks(): AsyncGenerator<Buffer> {
    if (this.consumed) throw new Error('The response body was already read or cancelled.');
    this.consumed = true;
    const lengthHeader = this.header('content-length');
    const expected = lengthHeader === undefined ? Number.NaN : Number(lengthHeader);
    let received = 0;
    let finished = false;
    try {
      for (;;) {
        const chunk = this.queue.shift();
        if (chunk !== undefined) {
          this.queued -= chunk.length;
          if (this.paused && this.queued < QUEUE_BYTES / 2) {
            this.paused = false;
            this.resumeSocket?.();
          }
          received += chunk.length;
          yield chunk;
          continue;
        }
        if (this.failure) throw this.readError(this.failure);
        if (this.complete) break;
        await this.nextEvent();
      }
      finished = true;
      if (this.cancelled) return;
      if (this.spec.method !== 'HEAD' && Number.isFinite(expected) && received !== expected) {
        throw networkError(
          this.spec,
          this.url,
          `cut the body of ${this.spec.label} short: ${received} of ${expected} bytes arrived`,
        );
      }
    } finally {
      clearTimeout(this.timer);
      if (!finished && !this.cancelled) await this.cancel();
    }
  }

  /** Waits for data, the end or a failure, within the idle timeout. */
  private nextEvent(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.waiting = true;
      if (this.timer) this.timer.refresh();
      else this.timer = setTimeout(() => this.onIdle(), this.spec.timeoutMs);
    });
  }

  private wakeReader(): void {
    const wake = this.wake;
    if (!wake) return;
    this.wake = undefined;
    this.waiting = false;
    wake();
  }

  private onIdle(): void {
    // The consumer holds a chunk: the next wait re-arms the timer.
    if (!this.waiting) return;
    this.timedOut = true;
    this.abort(new Error('idle timeout'));
  }

  private abort(reason: unknown): void {
    const error = reason instanceof Error ? reason : new Error(String(reason));
    if (this.abortRequest) this.abortRequest(error);
    else this.pendingAbort = error;
  }

  /** Header names (lower case) → values, parsed once from undici's raw pairs. */
  private headers(): Map<string, string[]> {
    if (this.parsedHeaders) return this.parsedHeaders;
    const map = new Map<string, string[]>();
    for (let i = 0; i + 1 < this.rawHeaders.length; i += 2) {
      const name = (this.rawHeaders[i] as Buffer).toString('latin1').toLowerCase();
      const value = (this.rawHeaders[i + 1] as Buffer).toString('latin1');
      const values = map.get(name);
      if (values) values.push(value);
      else map.set(name, [value]);
    }
    this.parsedHeaders = map;
    return map;
  }

  /** A failure before the answer's headers. */
  private requestError(error: unknown): HomeserverError {
    if (this.spec.signal?.aborted) return abortedError(this.spec, this.url);
    if (this.timedOut) {
      return networkError(
        this.spec,
        this.url,
        `did not answer ${this.spec.label} within ${seconds(this.spec.timeoutMs)}`,
      );
    }
    return networkError(this.spec, this.url, `did not answer ${this.spec.label}: ${describe(error)}`, error);
  }

  /** A failure while the body arrives. */
  private readError(error: unknown): HomeserverError {
    if (this.spec.signal?.aborted) return abortedError(this.spec, this.url);
    if (this.timedOut) {
      return networkError(
        this.spec,
        this.url,
        `sent no data for ${seconds(this.spec.timeoutMs)} while answering ${this.spec.label}`,
      );
    }
    return networkError(
      this.spec,
      this.url,
      `dropped the connection during ${this.spec.label}: ${describe(error)}`,
      error,
    );
  }
}

const noop = () => {};

/**
 * Requests that follow each caller signal: one 'abort' listener per signal, however many requests
 * share it (a sync run's shutdown signal serves thousands). `AbortSignal.any` costs tens of µs
 * per call on Node 20, growing with the requests made, and a listener per request would trip
 * the max-listeners warning.
 */
const followers = new WeakMap<AbortSignal, Set<(reason: unknown) => void>>();

/** Calls `onAbort` when `signal` aborts; returns the function that stops that. */
function follow(signal: AbortSignal, onAbort: (reason: unknown) => void): () => void {
  let set = followers.get(signal);
  if (!set) {
    const created = new Set<(reason: unknown) => void>();
    set = created;
    followers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        const all = [...created];
        created.clear();
        for (const follower of all) follower(signal.reason);
      },
      { once: true },
    );
  }
  set.add(onAbort);
  const members = set;
  return () => {
    members.delete(onAbort);
  };
}

/** Hands the body to undici in chunks, restarting the idle timer for each one. */
async function* progressing(body: Uint8Array | AsyncIterable<Uint8Array>, onProgress: () => void) {
  if (body instanceof Uint8Array) {
    for (let at = 0; at < body.length; at += UPLOAD_CHUNK_BYTES) {
      onProgress();
      yield body.subarray(at, at + UPLOAD_CHUNK_BYTES);
    }
  } else {
    for await (const chunk of body) {
      onProgress();
      yield chunk;
    }
  }
  onProgress();
}

function abortedError(spec: RequestSpec, url: string): HomeserverError {
  return new HomeserverError('aborted', url, `${spec.label} on homeserver ${spec.baseUrl} was aborted.`, {
    cause: spec.signal?.reason,
  });
}

function networkError(spec: RequestSpec, url: string, what: string, cause?: unknown): HomeserverError {
  return new HomeserverError('network', url, `Homeserver ${spec.baseUrl} ${what}.`, { cause });
}

/** `ECONNRESET: other side closed`, from an undici error (or a `fetch failed` TypeError) and its cause chain. */
export function describe(error: unknown): string {
  let current: unknown = error;
  let text = String(error);
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    text = typeof code === 'string' ? `${code}: ${current.message}` : current.message;
    if (!(current.cause instanceof Error)) break;
    current = current.cause;
  }
  return text;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
