import { afterEach, describe, expect, it, vi } from 'vitest';

// Known answers: BLAKE3 of the empty input and of "abc", base64.
const EMPTY = Buffer.from('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262', 'hex').toString(
  'base64',
);
const ABC = Buffer.from('6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85', 'hex').toString(
  'base64',
);

async function load(backend?: 'wasm') {
  vi.resetModules();
  if (backend) process.env.PUBKY_BACKUP_BLAKE3 = backend;
  else delete process.env.PUBKY_BACKUP_BLAKE3;
  return import('../../src/util/blake3.js');
}

afterEach(() => {
  delete process.env.PUBKY_BACKUP_BLAKE3;
});

describe('BLAKE3', () => {
  it('uses the native addon here and the WASM fallback when told to; both give the same hashes', async () => {
    const native = await load();
    expect(native.blake3Backend()).toBe('native');
    const wasm = await load('wasm');
    expect(wasm.blake3Backend()).toBe('wasm');
    expect(wasm.blake3OfSync(Buffer.from('abc'))).toBeUndefined();

    const big = Buffer.alloc(3_000_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 8)) & 0xff;
    for (const impl of [native, wasm]) {
      expect(await impl.blake3Of(Buffer.alloc(0))).toBe(EMPTY);
      expect(await impl.blake3Of(Buffer.from('abc'))).toBe(ABC);
      // Streamed in uneven chunks, twice over (finished hashers are reused).
      const results = [];
      for (let round = 0; round < 2; round++) {
        const hasher = await impl.newBlake3();
        for (let at = 0; at < big.length; at += 65_537) hasher.update(big.subarray(at, at + 65_537));
        results.push(hasher.digest());
      }
      expect(results[0]).toBe(results[1]);
      expect(results[0]).toBe(await impl.blake3Of(big));
    }
    expect(await native.blake3Of(big)).toBe(await wasm.blake3Of(big));
    expect(native.blake3OfSync(Buffer.from('abc'))).toBe(ABC);
  });

  it('a digest is taken once', async () => {
    const { newBlake3 } = await load();
    const hasher = await newBlake3();
    hasher.digest();
    expect(() => hasher.digest()).toThrow(/already taken/);
  });
});
