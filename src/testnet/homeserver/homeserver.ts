import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Keypair, type PublicKey } from '../../identity/index.js';
import { homeserverHttpsRecord, putToRelay, SignedPacket } from '../../pkdns/index.js';
import { DirBlobBackend, MemoryBlobBackend } from './blob-backend.js';
import type { HomeserverContext, HomeserverLimits } from './context.js';
import { handleRequest } from './dispatch.js';
import { FaultPlan } from './faults.js';
import { ReplayGuard } from './replay-guard.js';
import { SessionTable } from './session.js';
import { SignupTokens } from './signup-tokens.js';
import { type FeedEvent, type FileMeta, HomeserverState } from './state.js';
import { type FileTamper, tamperFile } from './tamper.js';

export interface HomeserverOptions {
  /** The homeserver's identity; default: a fresh random key. */
  keypair?: Keypair;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** 0 = a free port. */
  port?: number;
  /** pkarr relays to publish the homeserver's own packet to. */
  relays?: string[];
  /** Domain in the published HTTPS record; the SDK maps `localhost` to plain http. */
  publicHost?: string;
  signupMode?: 'open' | 'token';
  /** Keep users, files and events in this folder instead of memory. */
  dataDir?: string;
  limits?: Partial<HomeserverLimits>;
}

/** A running homeserver emulator: the client API of pubky-homeserver plus test controls. */
export class Homeserver {
  private running = true;
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly ctx: HomeserverContext,
    private readonly host: string,
    readonly url: string,
    readonly port: number,
  ) {}

  static async start(options: HomeserverOptions = {}): Promise<Homeserver> {
    const keypair = options.keypair ?? Keypair.random();
    const dataDir = options.dataDir;
    const ctx: HomeserverContext = {
      publicKey: keypair.publicKey,
      state: new HomeserverState(dataDir),
      blobs: dataDir ? new DirBlobBackend(join(dataDir, 'blobs')) : new MemoryBlobBackend(),
      sessions: new SessionTable(),
      faults: new FaultPlan(),
      replay: new ReplayGuard(),
      signupMode: options.signupMode ?? 'open',
      signupTokens: new SignupTokens(),
      limits: { maxBodyBytes: 100 * 1024 * 1024, keepAliveSeconds: 15, ...options.limits },
    };
    const server = createServer((req, res) => void handleRequest(ctx, req, res));
    const host = options.host ?? '127.0.0.1';
    await listen(server, options.port ?? 0, host);
    const port = (server.address() as AddressInfo).port;
    const homeserver = new Homeserver(
      server,
      ctx,
      host,
      `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      port,
    );
    for (const relay of options.relays ?? []) {
      await putToRelay(relay, homeserverPacket(keypair, options.publicHost ?? 'localhost', port));
    }
    return homeserver;
  }

  get publicKey(): PublicKey {
    return this.ctx.publicKey;
  }

  /** Users, files and the events feed (read it in tests; change it through the methods below). */
  get state(): HomeserverState {
    return this.ctx.state;
  }

  /** Fault injection: `homeserver.faults.add({ route: 'read', fault: { kind: 'status', status: 503 } })`. */
  get faults(): FaultPlan {
    return this.ctx.faults;
  }

  /** Issued signup tokens (counts for the admin server's `/info`). */
  get signupTokens(): SignupTokens {
    return this.ctx.signupTokens;
  }

  get signupMode(): 'open' | 'token' {
    return this.ctx.signupMode;
  }

  /** True while the homeserver answers on its port (see `stop` and `resume`). */
  get isRunning(): boolean {
    return this.running;
  }

  /** Switches between open signup and `?signup_token=` signup. */
  setSignupMode(mode: 'open' | 'token'): void {
    this.ctx.signupMode = mode;
  }

  /** A one-use signup token `XXXX-XXXX-XXXX` (the admin API's `generate_signup_token`). */
  generateSignupToken(): string {
    return this.ctx.signupTokens.generate();
  }

  /** Disables or enables a user (admin `POST /users/{pubkey}/disable|enable`); throws for an unknown one. */
  setUserDisabled(user: string, disabled: boolean): void {
    const record = this.ctx.state.users.get(user);
    if (!record) throw new Error(`unknown user ${user}`);
    this.ctx.state.setUser({ ...record, disabled });
  }

  /** Deletes one file with a DEL event (admin `DELETE /webdav/…`); false when there is none. */
  async deleteFile(user: string, path: string): Promise<boolean> {
    if (!this.ctx.state.filesOf(user).get(path)) return false;
    await this.ctx.blobs.remove(user, path);
    this.ctx.state.deleteFile(user, path);
    return true;
  }

  /** Deletes files for real, each with a DEL event (a homeserver wiping a user's data). */
  async massDelete(user: string, options: { prefix?: string; fraction?: number } = {}): Promise<number> {
    const files = this.ctx.state.filesOf(user);
    const paths = [...files.withPrefix(options.prefix ?? '/pub/')];
    const victims = paths.slice(0, Math.ceil(paths.length * (options.fraction ?? 1)));
    for (const path of victims) {
      await this.ctx.blobs.remove(user, path);
      this.ctx.state.deleteFile(user, path);
    }
    return victims.length;
  }

  /**
   * Adds a raw feed line that matches no stored file: events outside `/pub/`, with `..`, for
   * another user, or for a file that was never stored.
   */
  injectEvent(event: { type: 'PUT' | 'DEL'; owner: string; uri: string; contentHash?: string }): FeedEvent {
    const path = event.uri.replace(/^pubky:\/\/[^/]*/, '');
    return this.ctx.state.injectEvent({ ...event, path });
  }

  /**
   * Changes a stored file behind the feed's back (no event): new bytes with new metadata
   * (`replace`), flipped bytes under the old ETag (`corrupt`), or gone (`remove`). Returns the
   * file's metadata afterwards (undefined once removed); throws when a file to corrupt or remove
   * does not exist.
   */
  tamperFile(user: string, path: string, change: FileTamper): Promise<FileMeta | undefined> {
    return tamperFile(this.ctx, user, path, change);
  }

  /**
   * Takes the homeserver off the network: the port is closed (connections are refused) and open
   * connections, live event streams included, are cut. Users, files, events and sessions stay.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Listens again on the same port after `stop`, with everything it had. */
  async resume(): Promise<void> {
    if (this.running || this.closed) return;
    await listen(this.server, this.port, this.host);
    this.running = true;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * The homeserver's own pkarr packet: an apex HTTPS record with the domain and HTTP port, as
 * pubky-homeserver's key republisher publishes it when its ICANN domain is `localhost`.
 */
function homeserverPacket(keypair: Keypair, domain: string, port: number): SignedPacket {
  return SignedPacket.build(keypair, [
    homeserverHttpsRecord(port, { host: domain }),
    { name: '.', ttl: 3600, type: 'A', data: '127.0.0.1' },
  ]);
}
