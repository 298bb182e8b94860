import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { PublicKey } from './public-key.js';

/** An ed25519 keypair: the 32-byte secret seed and its public key. */
export class Keypair {
  private constructor(
    private readonly secret: Uint8Array,
    readonly publicKey: PublicKey,
  ) {}

  static random(): Keypair {
    return Keypair.fromSecret(randomBytes(32));
  }

  /** Derives the keypair from a 32-byte secret seed (what recovery files hold). */
  static fromSecret(secret: Uint8Array): Keypair {
    if (secret.length !== 32) throw new RangeError(`A secret key has 32 bytes, got ${secret.length}.`);
    const seed = Uint8Array.from(secret);
    return new Keypair(seed, PublicKey.fromBytes(ed25519.getPublicKey(seed)));
  }

  /** A copy of the secret seed: handle with care, never log it. */
  secretKey(): Uint8Array {
    return Uint8Array.from(this.secret);
  }

  sign(message: Uint8Array): Uint8Array {
    return ed25519.sign(message, this.secret);
  }
}

/** Checks an ed25519 signature; false (never a throw) for any malformed input. */
export function verifySignature(publicKey: PublicKey, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey.bytes);
  } catch {
    return false;
  }
}
