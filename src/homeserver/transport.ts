import { Readable } from 'node:stream';
import { Agent, type Dispatcher, request } from 'undici';
import {
  HomeserverError,
  type HomeserverErrorDetails,
  kindOfStatus,
  MAX_ERROR_BODY_BYTES,
  parseRetryAfter,
} from './errors.js';

/**
 * One HTTP exchange with a homeserver over undici's `request` (Node streams, a keep-alive pool;
 * no WHATWG streams in the way), with the two timeouts the client promises: the answer's headers
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
  agent ??= new Agent({ keepAliveTimeout: 4_000, headersTimeout: 0, bodyTimeout: 0 });
  return agent;
}

type UndiciBody = Dispatcher.ResponseData['body'];

export class Exchange {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timedOut = false;
  private consumed = false;
  private cancelled = false;
  /** True while the consumer waits for the next body chunk (only then does the idle timer count). */
  private waiting = false;

  private constructor(
    private readonly spec: RequestSpec,
    readonly url: string,
    private readonly controller: AbortController,
    /** Stops following the caller's signal (once the body is done with). */
    private readonly unlink: () => void,
    readonly status: number,
    private readonly headers: Record<string, string | string[] | undefined>,
    private readonly stream: UndiciBody,
  ) {
    // Failures reach the reader through iteration; an unread body must not crash the process.
    stream.on('error', noop);
    stream.once('close', unlink);
  }

  static async send(spec: RequestSpec): Promise<Exchange> {
    const url = `${spec.baseUrl}${spec.target}`;
    const controller = new AbortController();
    if (spec.signal?.aborted) throw abortedError(spec, url);
    const unlink = spec.signal ? follow(spec.signal, controller) : noop;
    const signal = controller.signal;

    let timedOut = false;
    let answered = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, spec.timeoutMs);
    const arm = () => {
      // an upload still running after the answer: the body reads time themselves
      if (!answered) timer.refresh();
    };
    const headers = { ...spec.headers };
    let body: Uint8Array | Readable | undefined;
    if (spec.body !== undefined) {
      const length = spec.body instanceof Uint8Array ? spec.body.length : spec.contentLength;
      if (length !== undefined) headers['content-length'] = String(length);
      body =
        spec.body instanceof Uint8Array && spec.body.length <= UPLOAD_CHUNK_BYTES
          ? spec.body
          : Readable.from(progressing(spec.body, arm), { objectMode: false });
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: spec.method as Dispatcher.HttpMethod,
        headers,
        body,
        signal,
        dispatcher: dispatcher(),
      });
    } catch (error) {
      unlink();
      if (spec.signal?.aborted) throw abortedError(spec, url);
      if (timedOut) {
        throw networkError(spec, url, `did not answer ${spec.label} within ${seconds(spec.timeoutMs)}`);
      }
      throw networkError(spec, url, `did not answer ${spec.label}: ${describe(error)}`, error);
    } finally {
      answered = true;
      clearTimeout(timer);
    }
    return new Exchange(spec, url, controller, unlink, response.statusCode, response.headers, response.body);
  }

  /** A response header (the first value of a repeated one), or undefined. */
  header(name: string): string | undefined {
    const value = this.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  /** Every `Set-Cookie` line of the answer. */
  setCookies(): string[] {
    const value = this.headers['set-cookie'];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
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
    // A body already received in full leaves the connection to the pool; one still arriving
    // closes it (as with any HTTP/1.1 client).
    if (!this.stream.destroyed) this.stream.destroy();
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

  private async *chunks(): AsyncGenerator<Uint8Array> {
    if (this.consumed) throw new Error('The response body was already read or cancelled.');
    this.consumed = true;
    const stream = this.stream;
    const lengthHeader = this.header('content-length');
    const expected = lengthHeader === undefined ? Number.NaN : Number(lengthHeader);
    // One timer for the whole body, re-armed per chunk; it fires only while we wait for bytes
    // (time the consumer spends on a chunk, e.g. writing it to disk, is not idleness).
    this.timer = setTimeout(() => this.onIdle(), this.spec.timeoutMs);
    const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let received = 0;
    let done = false;
    try {
      for (;;) {
        this.waiting = true;
        this.timer.refresh();
        let result: IteratorResult<Buffer>;
        try {
          result = await iterator.next();
        } catch (error) {
          throw this.readError(error);
        } finally {
          this.waiting = false;
        }
        if (result.done) break;
        received += result.value.length;
        yield result.value;
      }
      done = true;
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
      if (!done && !stream.destroyed) stream.destroy();
    }
  }

  private onIdle(): void {
    // The consumer holds a chunk: the next wait re-arms the timer.
    if (!this.waiting) return;
    this.timedOut = true;
    this.controller.abort();
    this.stream.destroy(new Error('idle timeout'));
  }

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
const followers = new WeakMap<AbortSignal, Set<AbortController>>();

/** Aborts `controller` when `signal` aborts; returns the function that stops that. */
function follow(signal: AbortSignal, controller: AbortController): () => void {
  let set = followers.get(signal);
  if (!set) {
    const created = new Set<AbortController>();
    set = created;
    followers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        for (const follower of created) follower.abort(signal.reason);
        created.clear();
      },
      { once: true },
    );
  }
  set.add(controller);
  const members = set;
  return () => {
    members.delete(controller);
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
