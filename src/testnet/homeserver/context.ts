import type { PublicKey } from '../../identity/index.js';
import type { BlobBackend } from './blob-backend.js';
import type { FaultPlan } from './faults.js';
import type { ReplayGuard } from './replay-guard.js';
import type { SessionTable } from './session.js';
import type { SignupTokens } from './signup-tokens.js';
import type { HomeserverState } from './state.js';

export interface HomeserverLimits {
  /** Largest accepted PUT body (the homeserver's limit is 100 MiB). */
  maxBodyBytes: number;
  /** Per-user storage quota; PUTs beyond it get 507. */
  quotaBytes?: number;
  /** Seconds between SSE keep-alive comments. */
  keepAliveSeconds: number;
}

/** Everything a route handler may touch. */
export interface HomeserverContext {
  publicKey: PublicKey;
  state: HomeserverState;
  blobs: BlobBackend;
  sessions: SessionTable;
  faults: FaultPlan;
  replay: ReplayGuard;
  signupMode: 'open' | 'token';
  /** Issued signup tokens and who used them. */
  signupTokens: SignupTokens;
  limits: HomeserverLimits;
}
