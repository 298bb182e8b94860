// What the benchmarks share: the deterministic data set (sizes, names, bodies), hashing, and the
// small helpers around curl and /proc. One place, so every bench measures the same files.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createBLAKE3 } from 'hash-wasm';

export const MIN_SIZE = 1_000;
export const MAX_SIZE = 1_000_000;

/** Deterministic PRNG (mulberry32): a function returning numbers in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * N files `{index, path, size}`, sizes log-uniform in [min, max] bytes, 100 per folder under
 * `/pub/<folder>/`; every 97th name has a space, accents, `#` and `%` (percent-encoding needed).
 */
export function planFiles(count, { folder = 'bench', min = MIN_SIZE, max = MAX_SIZE, seed = 0x5eed } = {}) {
  const random = prng(seed);
  const files = [];
  for (let i = 0; i < count; i++) {
    const size = Math.round(Math.exp(Math.log(min) + random() * Math.log(max / min)));
    const dir = `d${String(Math.floor(i / 100)).padStart(4, '0')}`;
    const name = i % 97 === 13 ? `naïve café #${i} 100%.bin` : `f${String(i).padStart(6, '0')}.bin`;
    files.push({ index: i, path: `/pub/${folder}/${dir}/${name}`, size });
  }
  return files;
}

/** 1 MB + 64 kB of pseudo-random bytes (xorshift32, fixed seed): file bodies are windows of it. */
const POOL_BYTES = (() => {
  const words = new Uint32Array((MAX_SIZE + 65_536) / 4);
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer);
})();

/** Body of a planned file: a window of the pool, stamped with its index so every file differs. */
export function bodyOf(file) {
  const body = Buffer.allocUnsafe(file.size);
  const offset = (file.index * 7919) % 65_536;
  body.set(POOL_BYTES.subarray(offset, offset + file.size));
  body.writeUInt32LE(file.index, 0);
  return body;
}

/** BLAKE3 of `bytes` in base64 (the homeserver's ETag form). */
export async function blake3(bytes) {
  const hasher = await createBLAKE3();
  hasher.init();
  hasher.update(bytes);
  return Buffer.from(hasher.digest('binary')).toString('base64');
}

/** A homeserver path with each segment percent-encoded, for a URL. */
export const encodePath = (path) => path.split('/').map(encodeURIComponent).join('/');

/** A value quoted for a curl config file (`-K`). */
export const curlQuote = (text) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Dirty pages of the previous phase must not slow the next one's writes (or fsyncs). */
export function flushDisks() {
  try {
    execFileSync('sync');
  } catch {}
}

/** User + system CPU seconds a live process has used so far (Linux /proc), or undefined. */
export async function cpuSeconds(pid) {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * What `/usr/bin/time -f '%U %S %M' -o <file>` wrote: user + system CPU seconds (`cpuS`) and peak
 * RSS in kB (`maxRssKB`) of the command it ran.
 */
export async function readTimeUsage(file) {
  const [user, system, rss] = (await readFile(file, 'utf8')).trim().split('\n').at(-1).split(' ').map(Number);
  return { cpuS: user + system, maxRssKB: rss };
}
