import { type HomeserverClient, HomeserverError, type Session } from '../homeserver/index.js';
import type { Keypair } from '../identity/index.js';
import { RestoreError } from './errors.js';

export interface OpenedSession {
  session: Session;
  /** True when the user was new on the homeserver and was signed up now. */
  signedUp: boolean;
}

/**
 * A session for the user on the target: signs in (`POST /session`), or — when the homeserver does
 * not know the user (404) — signs up (`POST /signup[?signup_token=]`), as the SDK's `signup`
 * would (protocol.md §3). A homeserver in token mode needs `signupToken` (400 "Token required",
 * 401 "Invalid token" / "Token already used"). Errors: `RestoreError` `SIGNUP_TOKEN_REQUIRED`,
 * `SIGNUP_REFUSED`, `SIGNIN_REFUSED`, `TARGET_UNREACHABLE`.
 */
export async function openSession(
  client: HomeserverClient,
  keypair: Keypair,
  options: { signupToken?: string; signal?: AbortSignal } = {},
): Promise<OpenedSession> {
  try {
    return { session: await client.signin(keypair, { signal: options.signal }), signedUp: false };
  } catch (error) {
    if (!(error instanceof HomeserverError) || error.kind !== 'not-found') throw refusal('signin', error);
  }
  try {
    const session = await client.signup(keypair, {
      signupToken: options.signupToken,
      signal: options.signal,
    });
    return { session, signedUp: true };
  } catch (error) {
    // Signed up meanwhile (another run): the user exists now.
    if (error instanceof HomeserverError && error.status === 409) {
      return { session: await client.signin(keypair, { signal: options.signal }), signedUp: false };
    }
    throw refusal('signup', error, options.signupToken !== undefined, client.baseUrl);
  }
}

function refusal(step: 'signin' | 'signup', error: unknown, hadToken = false, url = ''): unknown {
  if (!(error instanceof HomeserverError)) return error;
  if (error.kind === 'aborted') return error;
  if (error.kind === 'network') {
    return new RestoreError('TARGET_UNREACHABLE', `Cannot reach the homeserver: ${error.message}`, {
      cause: error,
    });
  }
  const said = error.body ? `"${error.body}"` : `status ${error.status}`;
  if (step === 'signin') {
    return new RestoreError(
      'SIGNIN_REFUSED',
      `The homeserver refused to sign the user in (${said}). Check that the key is the user's and that the account is not disabled there.`,
    );
  }
  if (/token required/i.test(error.body ?? '') || (!hadToken && error.status === 400)) {
    return new RestoreError(
      'SIGNUP_TOKEN_REQUIRED',
      `The homeserver ${url} only takes new users with a signup token (it answered ${said}): ask its operator for one.`,
    );
  }
  if (error.status === 401 || /token/i.test(error.body ?? '')) {
    return new RestoreError(
      'SIGNUP_REFUSED',
      `The homeserver refused the signup token (${said}): a token works once; ask its operator for a new one.`,
    );
  }
  return new RestoreError('SIGNUP_REFUSED', `The homeserver refused to sign the user up (${said}).`);
}
