import { createRequire } from 'node:module';
import { createBLAKE3, type IHasher } from 'hash-wasm';

/** A running BLAKE3: feed chunks, then `digest()` once (base64, as ETags and content_hash carry it). */
export interface Blake3 {
  update(chunk: Uint8Array): void;
  digest(): string;
}

/** The part of `@napi-rs/blake-hash` used here (a Rust addon, prebuilt per platform). */
interface NativeHasher {
  reset(): void;
  update(input: Uint8Array): unknown;
  digestBuffer(): Buffer;
}
interface NativeModule {
  Blake3Hasher: new () => NativeHasher;
  blake3(input: Uint8Array): Buffer;
}

let loaded: NativeModule | null | undefined;

/**
 * Which implementation hashes: `native` (about 5 GB/s, SIMD) where the platform's prebuilt addon
 * loads, else `wasm` (hash-wasm, about 0.7 GB/s). `PUBKY_BACKUP_BLAKE3=wasm` forces the fallback.
 * The addon is loaded on first use, not at import.
 */
export function blake3Backend(): 'native' | 'wasm' {
  return native() ? 'native' : 'wasm';
}

function native(): NativeModule | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.PUBKY_BACKUP_BLAKE3 === 'wasm') return loaded;
  try {
    const module = createRequire(import.meta.url)('@napi-rs/blake-hash') as NativeModule;
    // A broken binary fails here rather than on the first file.
    if (module.blake3(new Uint8Array(0)).length === 32) loaded = module;
  } catch {
    // no prebuilt binary for this platform, or a libc it cannot load: hash-wasm does the work
  }
  return loaded;
}

/** Finished hashers are reused: creating one costs ~0.5 ms (WASM) or ~7 µs (native). */
const idleNative: NativeHasher[] = [];
const idleWasm: IHasher[] = [];
const MAX_IDLE = 64;

/** A new running BLAKE3 hash. */
export async function newBlake3(): Promise<Blake3> {
  const module = native();
  return module ? nativeBlake3(module) : wasmBlake3();
}

/** BLAKE3 of bytes held whole, base64 (standard, padded). */
export async function blake3Of(bytes: Uint8Array): Promise<string> {
  const module = native();
  if (module) return module.blake3(bytes).toString('base64');
  const hasher = await wasmBlake3();
  hasher.update(bytes);
  return hasher.digest();
}

/**
 * BLAKE3 of bytes held whole without waiting, or undefined where only the WASM fallback exists
 * (use `blake3Of` then). For hot loops over many small files.
 */
export function blake3OfSync(bytes: Uint8Array): string | undefined {
  return native()?.blake3(bytes).toString('base64');
}

function nativeBlake3(module: NativeModule): Blake3 {
  const hasher = idleNative.pop() ?? new module.Blake3Hasher();
  let done = false;
  return {
    update(chunk) {
      hasher.update(chunk);
    },
    digest() {
      if (done) throw new Error('BLAKE3 digest already taken');
      done = true;
      const result = hasher.digestBuffer().toString('base64');
      hasher.reset();
      if (idleNative.length < MAX_IDLE) idleNative.push(hasher);
      return result;
    },
  };
}

async function wasmBlake3(): Promise<Blake3> {
  const hasher = idleWasm.pop() ?? (await createBLAKE3());
  hasher.init();
  let done = false;
  return {
    update(chunk) {
      hasher.update(chunk);
    },
    digest() {
      if (done) throw new Error('BLAKE3 digest already taken');
      done = true;
      const result = Buffer.from(hasher.digest('binary')).toString('base64');
      if (idleWasm.length < MAX_IDLE) idleWasm.push(hasher);
      return result;
    },
  };
}
