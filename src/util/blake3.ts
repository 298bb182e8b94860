import { createBLAKE3, type IHasher } from 'hash-wasm';

/** A running BLAKE3: feed chunks, then `digest()` once (base64, as ETags and content_hash carry it). */
export interface Blake3 {
  update(chunk: Uint8Array): void;
  digest(): string;
}

/** Creating a hash-wasm hasher instantiates WebAssembly (~0.5 ms): finished ones are reused. */
const idle: IHasher[] = [];

export async function newBlake3(): Promise<Blake3> {
  const hasher = idle.pop() ?? (await createBLAKE3());
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
      if (idle.length < 64) idle.push(hasher);
      return result;
    },
  };
}
